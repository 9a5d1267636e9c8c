"""The image routes through their handler, on moto and DynamoDB Local (S3 on moto): the direct upload, presigned
uploads and their status, and the ingest function S3 notifies when an upload lands.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest
from changes_support import Changes
from image_samples import image_form, jpeg, multipart, png, webp_lossless
from images_fixtures import BASE_URL, Images
from products_api.images.multipart import MAX_IMAGE_BYTES
from products_api.images.service import MAX_UPLOAD_BYTES
from products_api.images.storage import UploadRecord
from products_api.products.models import MAX_IMAGE_URLS, format_timestamp
from support import EVENT_PRODUCT_ID, FakeContext, invoke_handler, load_event

PRODUCT = "6650a1b2c3d4e5f6a7b8c9d1"


def _urls(count: int) -> list[str]:
    return [f"https://cdn.example.com/{n}.jpg" for n in range(count)]


# --- POST .../images ---------------------------------------------------------------------------------------------


def test_a_png_is_stored_and_appended(images: Images) -> None:
    images.api.add_product(PRODUCT)
    data = png(3, 2)
    response = images.post_image(PRODUCT, *image_form(data))

    assert response.status == 200, response.body
    body = response.json
    assert body["version"] == 2 and response.header("ETag") == '"2"'
    assert body["imageUrls"][0] == "https://cdn.example.com/hero.jpg"
    url = body["imageUrls"][1]
    key = images.key_of(url)
    assert key.startswith(f"images/{PRODUCT}/") and key.endswith(".png")
    assert images.object(key) == data
    assert images.object_type(key) == "image/png"
    stored = images.api.stored_item(PRODUCT)
    assert stored is not None
    assert stored["imageUrls"] == body["imageUrls"] and stored["version"] == 2
    assert stored["updatedBy"].startswith("cred_")


@pytest.mark.parametrize(
    ("data", "extension", "media_type"),
    [(jpeg(), "jpg", "image/jpeg"), (webp_lossless(), "webp", "image/webp")],
    ids=["jpeg", "webp"],
)
def test_jpeg_and_webp_are_stored_with_their_own_type(
    images: Images, data: bytes, extension: str, media_type: str
) -> None:
    images.api.add_product(PRODUCT)
    # the name and the declared type say PNG: the content decides
    response = images.post_image(PRODUCT, *image_form(data, "wrong-name.png"))
    assert response.status == 200, response.body
    key = images.key_of(response.json["imageUrls"][-1])
    assert key.endswith(f".{extension}") and images.object_type(key) == media_type


def test_a_text_file_named_png_is_refused_and_changes_nothing(images: Images) -> None:
    images.api.add_product(PRODUCT)
    before = images.api.stored_item(PRODUCT)
    response = images.post_image(PRODUCT, *image_form(b"not an image at all\n", "photo.png"))
    assert response.status == 400
    assert response.json["code"] == "invalid_image"
    assert "not a JPEG, PNG or WebP" in response.json["error"]
    assert images.api.stored_item(PRODUCT) == before
    assert images.keys() == []


def test_a_damaged_png_is_refused(images: Images) -> None:
    images.api.add_product(PRODUCT)
    response = images.post_image(PRODUCT, *image_form(png(8, 8)[:-20]))
    assert (response.status, response.json["code"]) == (400, "invalid_image")
    assert images.keys() == []


def test_an_image_over_4_mb_is_413(images: Images) -> None:
    images.api.add_product(PRODUCT)
    response = images.post_image(PRODUCT, *image_form(jpeg(padding=MAX_IMAGE_BYTES), "big.jpg"))
    assert (response.status, response.json["code"]) == (413, "payload_too_large")
    assert images.keys() == []


def test_json_is_415(images: Images) -> None:
    images.api.add_product(PRODUCT)
    response = images.post_image(PRODUCT, b"{}", "application/json")
    assert (response.status, response.json["code"]) == (415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("parts", "fields"),
    [
        ([("file", png(), "a.png")], {"file", "image"}),
        ([("image", png(), "a.png"), ("caption", b"hello", None)], {"caption"}),
        ([("image", png(), "a.png"), ("image", png(), "b.png")], {"image"}),
    ],
    ids=["wrong-name", "extra-part", "two-images"],
)
def test_the_body_holds_one_image_part_and_nothing_else(
    images: Images, parts: list[tuple[str, bytes, str | None]], fields: set[str]
) -> None:
    images.api.add_product(PRODUCT)
    response = images.post_image(PRODUCT, *multipart(parts))
    assert (response.status, response.json["code"]) == (400, "validation_error")
    assert {detail["field"] for detail in response.json["details"]} == fields
    assert images.keys() == []


def test_a_truncated_multipart_body_is_refused(images: Images) -> None:
    images.api.add_product(PRODUCT)
    body, content_type = image_form(png())
    response = images.post_image(PRODUCT, body[:-10], content_type)
    assert (response.status, response.json["code"]) == (400, "validation_error")


def test_an_unknown_product_is_404_and_leaves_no_file(images: Images) -> None:
    response = images.post_image(PRODUCT, *image_form(png()))
    assert (response.status, response.json["code"]) == (404, "not_found")
    assert images.keys() == []


def test_the_twenty_first_image_is_409_and_leaves_no_file(images: Images) -> None:
    images.api.add_product(PRODUCT, image_urls=_urls(MAX_IMAGE_URLS))
    response = images.post_image(PRODUCT, *image_form(png()))
    assert (response.status, response.json["code"]) == (409, "too_many_images")
    assert response.header("Retry-After") is None
    stored = images.api.stored_item(PRODUCT)
    assert stored is not None and stored["version"] == 1 and len(stored["imageUrls"]) == MAX_IMAGE_URLS
    assert images.keys() == []


def test_the_twentieth_image_is_appended(images: Images) -> None:
    images.api.add_product(PRODUCT, image_urls=_urls(MAX_IMAGE_URLS - 1))
    response = images.post_image(PRODUCT, *image_form(png()))
    assert response.status == 200, response.body
    assert len(response.json["imageUrls"]) == MAX_IMAGE_URLS


def test_if_match_is_honoured(images: Images) -> None:
    images.api.add_product(PRODUCT, version=3)
    stale = images.post_image(PRODUCT, *image_form(png()), {"if-match": '"2"'})
    assert (stale.status, stale.json["code"], stale.header("ETag")) == (412, "precondition_failed", '"3"')
    assert images.keys() == []
    current = images.post_image(PRODUCT, *image_form(png()), {"if-match": '"3"'})
    assert current.status == 200 and current.json["version"] == 4


def test_idempotency_key_replays_and_appends_once(images: Images) -> None:
    images.api.add_product(PRODUCT)
    key = str(uuid.uuid4())
    form = image_form(png())
    first = images.post_image(PRODUCT, *form, {"idempotency-key": key})
    again = images.post_image(PRODUCT, *form, {"idempotency-key": key})
    assert first.status == again.status == 200
    assert again.header("Idempotent-Replayed") == "true" and first.header("Idempotent-Replayed") is None
    assert again.json == first.json
    stored = images.api.stored_item(PRODUCT)
    assert stored is not None and stored["version"] == 2 and len(stored["imageUrls"]) == 2
    assert len(images.keys("images/")) == 1


def test_idempotency_key_with_another_image_is_422(images: Images) -> None:
    images.api.add_product(PRODUCT)
    key = str(uuid.uuid4())
    assert images.post_image(PRODUCT, *image_form(png(2, 2)), {"idempotency-key": key}).status == 200
    other = images.post_image(PRODUCT, *image_form(png(3, 3)), {"idempotency-key": key})
    assert (other.status, other.json["code"]) == (422, "idempotency_key_reused")


def test_a_re_run_after_a_lost_record_appends_nothing_twice(images: Images) -> None:
    """The append of one Idempotency-Key has one write id and one object key: a re-run finds its write done."""
    images.api.add_product(PRODUCT)
    key = str(uuid.uuid4())
    form = image_form(png())
    first = images.post_image(PRODUCT, *form, {"idempotency-key": key})
    for record in images.api.idempotency_records():
        images.api.client.delete_item(
            TableName=images.api.settings.idempotency_table_name, Key={"id": {"S": record["id"]}}
        )
    again = images.post_image(PRODUCT, *form, {"idempotency-key": key})
    assert again.status == 200 and again.json == first.json
    assert len(images.keys("images/")) == 1


def test_uploading_needs_the_write_scope(images: Images) -> None:
    images.api.add_product(PRODUCT)
    images.api.add_credential("tp_read_only_token_000000000000000000", scopes=("products:read",))
    response = images.post_image(PRODUCT, *image_form(png()), token="tp_read_only_token_000000000000000000")
    assert (response.status, response.json["code"]) == (403, "insufficient_scope")


def test_the_upload_event_runs_as_is(images: Images) -> None:
    images.api.add_product(EVENT_PRODUCT_ID, model="LI-48V-20AH")
    event = load_event("upload_product_image")
    response = invoke_handler(images.handler, event)
    assert response.status == 200, response.body
    url = response.json["imageUrls"][-1]
    sent = base64.b64decode(event["body"])
    assert images.object(images.key_of(url)) in sent


def test_an_append_is_a_write_in_the_history(images: Images, changes: Changes) -> None:
    images.api.add_product(PRODUCT)
    response = images.post_image(PRODUCT, *image_form(png()))
    assert response.status == 200
    changes.deliver()
    latest = changes.entries(PRODUCT)[-1]
    assert latest.version == 2
    assert [change.field for change in latest.changes] == ["imageUrls"]
    (published,) = [event for event in changes.published() if event["detail"].get("version") == 2]
    assert published["detail"]["changedFields"] == ["imageUrls"]


# --- presigned uploads -----------------------------------------------------------------------------------------


def _policy(fields: dict[str, str]) -> dict[str, object]:
    document: dict[str, object] = json.loads(base64.b64decode(fields["policy"]))
    return document


def test_a_presigned_upload_is_handed_out_with_a_bounded_policy(images: Images) -> None:
    images.api.add_product(PRODUCT)
    response = images.create_upload(PRODUCT)
    assert response.status == 201, response.body
    body = response.json
    upload_id = body["uploadId"]
    assert response.header("Location") == f"/api/v1/products/{PRODUCT}/images/uploads/{upload_id}"
    assert response.header("Cache-Control") == "no-store"
    assert body["status"] == "pending" and body["productId"] == PRODUCT
    form = body["upload"]
    assert form["maxBytes"] == MAX_UPLOAD_BYTES == 10 * 1024 * 1024
    fields = form["fields"]
    assert fields["key"] == f"uploads/{upload_id}"
    policy = _policy(fields)
    conditions = policy["conditions"]
    assert isinstance(conditions, list)
    assert ["content-length-range", 1, MAX_UPLOAD_BYTES] in conditions
    assert ["starts-with", "$Content-Type", "image/"] in conditions
    assert {"key": f"uploads/{upload_id}"} in conditions
    assert {"bucket": images.bucket} in conditions
    expires = datetime.fromisoformat(str(policy["expiration"]).replace("Z", "+00:00"))
    created = datetime.fromisoformat(body["createdAt"].replace("Z", "+00:00"))
    assert 295 <= (expires - created).total_seconds() <= 305
    assert (
        form["expiresAt"] == policy["expiration"]
        or abs((datetime.fromisoformat(form["expiresAt"].replace("Z", "+00:00")) - expires).total_seconds()) < 2
    )


def test_a_landed_upload_is_appended_and_its_status_says_so(images: Images) -> None:
    images.api.add_product(PRODUCT)
    created = images.create_upload(PRODUCT).json
    upload_id = created["uploadId"]
    assert images.get_upload(PRODUCT, upload_id).json["status"] == "pending"
    data = jpeg(32, 16, padding=9 * 1024 * 1024)
    images.s3.put_object(Bucket=images.bucket, Key=f"uploads/{upload_id}", Body=data, ContentType="image/jpeg")

    images.notify(f"uploads/{upload_id}")

    status = images.get_upload(PRODUCT, upload_id)
    assert status.status == 200, status.body
    assert status.json["status"] == "appended" and status.json["version"] == 2
    url = status.json["imageUrl"]
    assert url == f"{BASE_URL}/images/{PRODUCT}/{upload_id}.jpg"
    stored = images.api.stored_item(PRODUCT)
    assert stored is not None and stored["imageUrls"][-1] == url and stored["version"] == 2
    assert images.object(images.key_of(url)) == data
    assert images.object_type(images.key_of(url)) == "image/jpeg"
    # the upload itself is gone once judged
    assert images.keys("uploads/") == []


def test_duplicate_notifications_append_once(images: Images) -> None:
    images.api.add_product(PRODUCT)
    upload_id = images.create_upload(PRODUCT).json["uploadId"]
    key = f"uploads/{upload_id}"
    images.s3.put_object(Bucket=images.bucket, Key=key, Body=png(), ContentType="image/png")
    images.notify(key, key)
    images.notify(key)
    stored = images.api.stored_item(PRODUCT)
    assert stored is not None and stored["version"] == 2 and len(stored["imageUrls"]) == 2


def test_a_notification_redelivered_before_the_status_was_set_appends_nothing_twice(images: Images) -> None:
    """A crash between the append and the status: the retried invocation finds the image in the list."""
    images.api.add_product(PRODUCT)
    upload_id = images.create_upload(PRODUCT).json["uploadId"]
    key = f"uploads/{upload_id}"
    images.s3.put_object(Bucket=images.bucket, Key=key, Body=png(), ContentType="image/png")
    uploads = images.ingest_runtime.ingest._uploads
    settle = uploads.settle
    uploads.settle = lambda *args, **kwargs: (_ for _ in ()).throw(RuntimeError("crash"))  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        images.notify(key)
    uploads.settle = settle  # type: ignore[method-assign]
    images.notify(key)
    stored = images.api.stored_item(PRODUCT)
    assert stored is not None and stored["version"] == 2 and len(stored["imageUrls"]) == 2
    assert images.get_upload(PRODUCT, upload_id).json["status"] == "appended"


def test_a_text_file_uploaded_is_rejected_deleted_and_changes_nothing(images: Images) -> None:
    images.api.add_product(PRODUCT)
    before = images.api.stored_item(PRODUCT)
    upload_id = images.create_upload(PRODUCT).json["uploadId"]
    key = f"uploads/{upload_id}"
    images.s3.put_object(Bucket=images.bucket, Key=key, Body=b"hello", ContentType="image/png")
    images.notify(key)
    status = images.get_upload(PRODUCT, upload_id).json
    assert (status["status"], status["code"]) == ("rejected", "invalid_image")
    assert "not a JPEG, PNG or WebP" in status["reason"]
    assert images.api.stored_item(PRODUCT) == before
    assert images.keys() == []


def test_an_upload_over_10_mb_is_rejected_although_s3_took_it(images: Images) -> None:
    """moto does not enforce the policy's content-length-range; the ingest checks the size again."""
    images.api.add_product(PRODUCT)
    upload_id = images.create_upload(PRODUCT).json["uploadId"]
    key = f"uploads/{upload_id}"
    images.s3.put_object(Bucket=images.bucket, Key=key, Body=jpeg(padding=MAX_UPLOAD_BYTES), ContentType="image/jpeg")
    images.notify(key)
    status = images.get_upload(PRODUCT, upload_id).json
    assert (status["status"], status["code"]) == ("rejected", "payload_too_large")
    assert images.keys() == []


def test_an_upload_landing_on_a_full_product_is_rejected_and_its_copy_deleted(images: Images) -> None:
    images.api.add_product(PRODUCT, image_urls=_urls(MAX_IMAGE_URLS - 1))
    upload_id = images.create_upload(PRODUCT).json["uploadId"]
    # meanwhile the product filled up
    assert images.post_image(PRODUCT, *image_form(png())).status == 200
    key = f"uploads/{upload_id}"
    images.s3.put_object(Bucket=images.bucket, Key=key, Body=png(), ContentType="image/png")
    images.notify(key)
    status = images.get_upload(PRODUCT, upload_id).json
    assert (status["status"], status["code"]) == ("rejected", "too_many_images")
    stored = images.api.stored_item(PRODUCT)
    assert stored is not None and len(stored["imageUrls"]) == MAX_IMAGE_URLS and stored["version"] == 2
    assert images.keys("uploads/") == [] and len(images.keys("images/")) == 1


def test_a_file_no_upload_names_is_deleted(images: Images) -> None:
    images.s3.put_object(Bucket=images.bucket, Key="uploads/" + "ab" * 16, Body=png())
    assert images.notify("uploads/" + "ab" * 16) == {"results": [{"uploadId": "ab" * 16, "outcome": "ignored"}]}
    assert images.keys() == []


def test_no_upload_is_handed_out_for_a_full_or_unknown_product(images: Images) -> None:
    images.api.add_product(PRODUCT, image_urls=_urls(MAX_IMAGE_URLS))
    full = images.create_upload(PRODUCT)
    assert (full.status, full.json["code"]) == (409, "too_many_images")
    unknown = images.create_upload("6650a1b2c3d4e5f6a7b8c9ff")
    assert (unknown.status, unknown.json["code"]) == (404, "not_found")


def test_the_upload_route_takes_no_parameters(images: Images) -> None:
    images.api.add_product(PRODUCT)
    assert images.create_upload(PRODUCT, "{}", {"content-type": "application/json"}).status == 201
    refused = images.create_upload(PRODUCT, '{"size": 5}', {"content-type": "application/json"})
    assert (refused.status, refused.json["code"]) == (400, "validation_error")


def test_an_upload_of_another_company_or_product_is_not_found(images: Images) -> None:
    images.api.add_product(PRODUCT)
    upload_id = images.create_upload(PRODUCT).json["uploadId"]
    other_token = "tp_other_company_token_00000000000000000"
    images.api.add_credential(other_token, company_id="OTHER", scopes=("products:read",))
    assert images.get_upload(PRODUCT, upload_id, token=other_token).status == 404
    assert images.get_upload("6650a1b2c3d4e5f6a7b8c9ff", upload_id).status == 404
    assert images.get_upload(PRODUCT, "not-an-upload-id").status == 404


def test_the_upload_events_run_as_is(images: Images) -> None:
    """events/create_image_upload.json, then events/ingest_product_image.json and get_image_upload.json for the
    upload id and bucket those name."""
    images.api.add_product(EVENT_PRODUCT_ID, model="LI-48V-20AH")
    created = invoke_handler(images.handler, load_event("create_image_upload"))
    assert created.status == 201, created.body

    notification = load_event("ingest_product_image")
    record = notification["Records"][0]
    upload_id = record["s3"]["object"]["key"].removeprefix("uploads/")
    status_event = load_event("get_image_upload")
    assert status_event["pathParameters"]["uploadId"] == upload_id
    # the upload the events name, in the bucket they name
    images.bucket = record["s3"]["bucket"]["name"]
    images.s3.create_bucket(Bucket=images.bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    now = datetime.now(UTC)
    images.uploads.create(
        UploadRecord(
            uploadId=upload_id,
            companyId="ACME",
            productId=EVENT_PRODUCT_ID,
            bucket=images.bucket,
            key=f"uploads/{upload_id}",
            baseUrl=BASE_URL,
            status="pending",
            createdAt=format_timestamp(now),
            uploadExpiresAt=format_timestamp(now),
            expiresAt=int(now.timestamp()) + 3600,
        )
    )
    images.s3.put_object(Bucket=images.bucket, Key=f"uploads/{upload_id}", Body=png())
    result = images.ingest_handler.lambda_handler(notification, FakeContext())
    assert result == {"results": [{"uploadId": upload_id, "outcome": "appended"}]}
    status = invoke_handler(images.handler, status_event)
    assert status.status == 200 and status.json["status"] == "appended"
