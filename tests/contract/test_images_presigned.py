"""The image routes through their handler, on moto and DynamoDB Local (S3 on moto): presigned uploads and their
status, and the ingest function S3 notifies when an upload lands.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from image_samples import image_form, jpeg, png
from images_fixtures import BASE_URL, Images, image_urls
from products_api.images.service import MAX_UPLOAD_BYTES
from products_api.images.storage import UploadRecord
from products_api.products.fields import MAX_IMAGE_URLS
from products_api.products.models import format_timestamp
from support import EVENT_PRODUCT_ID, FakeContext, invoke_handler, load_event

PRODUCT = "6650a1b2c3d4e5f6a7b8c9d1"


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
    images.api.add_product(PRODUCT, image_urls=image_urls(MAX_IMAGE_URLS - 1))
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
    images.api.add_product(PRODUCT, image_urls=image_urls(MAX_IMAGE_URLS))
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
            upload_id=upload_id,
            company_id="ACME",
            product_id=EVENT_PRODUCT_ID,
            bucket=images.bucket,
            key=f"uploads/{upload_id}",
            base_url=BASE_URL,
            status="pending",
            created_at=format_timestamp(now),
            upload_expires_at=format_timestamp(now),
            expires_at=int(now.timestamp()) + 3600,
        )
    )
    images.s3.put_object(Bucket=images.bucket, Key=f"uploads/{upload_id}", Body=png())
    result = images.ingest_handler.lambda_handler(notification, FakeContext())
    assert result == {"results": [{"uploadId": upload_id, "outcome": "appended"}]}
    status = invoke_handler(images.handler, status_event)
    assert status.status == 200 and status.json["status"] == "appended"
