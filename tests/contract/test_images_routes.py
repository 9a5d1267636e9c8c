"""The image routes through their handler, on moto and DynamoDB Local (S3 on moto): the direct upload
(`POST .../images`); presigned uploads are in test_images_presigned.py.
"""

from __future__ import annotations

import base64
import uuid

import pytest
from changes_support import Changes
from image_samples import image_form, jpeg, multipart, png, webp_lossless
from images_fixtures import Images, image_urls
from products_api.images.multipart import MAX_IMAGE_BYTES
from products_api.products.fields import MAX_IMAGE_URLS
from support import EVENT_PRODUCT_ID, invoke_handler, load_event

PRODUCT = "6650a1b2c3d4e5f6a7b8c9d1"


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
    images.api.add_product(PRODUCT, image_urls=image_urls(MAX_IMAGE_URLS))
    response = images.post_image(PRODUCT, *image_form(png()))
    assert (response.status, response.json["code"]) == (409, "too_many_images")
    assert response.header("Retry-After") is None
    stored = images.api.stored_item(PRODUCT)
    assert stored is not None and stored["version"] == 1 and len(stored["imageUrls"]) == MAX_IMAGE_URLS
    assert images.keys() == []


def test_the_twentieth_image_is_appended(images: Images) -> None:
    images.api.add_product(PRODUCT, image_urls=image_urls(MAX_IMAGE_URLS - 1))
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
