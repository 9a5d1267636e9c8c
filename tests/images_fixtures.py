"""The `images` fixture: the image routes' handler and the ingest function on the current DynamoDB backend, with S3
from moto on both backends (moto lets DynamoDB Local's requests through untouched).
"""

from __future__ import annotations

import base64
import copy
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from products_api.core.settings import read_settings
from products_api.images.runtime import ImagesRuntime, IngestRuntime, make_s3_client
from products_api.images.settings import ImagesSettings, IngestSettings
from products_api.images.storage import UploadRecord, UploadRecords
from support import (
    EVENT_TOKEN,
    Api,
    ApiResponse,
    FakeContext,
    _request_event,
    function_module,
    invoke_handler,
    load_event,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

REGION = "eu-west-1"
BUCKET = "products-images-test"
BASE_URL = "https://images.example.test"


def images_handler_module() -> ModuleType:
    return function_module("upload_product_image")


def ingest_handler_module() -> ModuleType:
    return function_module("ingest_product_image")


class Images:
    """The image function and the ingest function on one backend, and what they stored."""

    def __init__(self, api: Api, runtime: ImagesRuntime, ingest_runtime: IngestRuntime, s3: S3Client) -> None:
        self.api = api
        self.runtime = runtime
        self.ingest_runtime = ingest_runtime
        self.s3 = s3
        self.bucket = BUCKET
        self.uploads = UploadRecords(api.client, runtime.settings.image_uploads_table_name)
        self.handler = images_handler_module()
        self.ingest_handler = ingest_handler_module()

    def post_image(
        self,
        product_id: str,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str | None] | None = None,
        *,
        token: str | None = EVENT_TOKEN,
        context: FakeContext | None = None,
    ) -> ApiResponse:
        event = _request_event(
            "upload_product_image",
            f"/api/v1/products/{product_id}/images",
            product_id,
            {"content-type": content_type, **(headers or {})},
            token,
        )
        event["body"] = base64.b64encode(body).decode("ascii")
        event["isBase64Encoded"] = True
        return invoke_handler(self.handler, event, context)

    def create_upload(
        self, product_id: str, body: str | None = None, headers: dict[str, str | None] | None = None
    ) -> ApiResponse:
        event = _request_event(
            "create_image_upload", f"/api/v1/products/{product_id}/images/uploads", product_id, headers, EVENT_TOKEN
        )
        if body is not None:
            event["body"] = body
            event["isBase64Encoded"] = False
        return invoke_handler(self.handler, event)

    def get_upload(self, product_id: str, upload_id: str, *, token: str | None = EVENT_TOKEN) -> ApiResponse:
        path = f"/api/v1/products/{product_id}/images/uploads/{upload_id}"
        event = _request_event("get_image_upload", path, product_id, None, token)
        event["pathParameters"] = {"id": product_id, "uploadId": upload_id}
        return invoke_handler(self.handler, event)

    def notify(self, *keys: str, event_name: str = "ObjectCreated:Post") -> Any:
        """Deliver S3 ObjectCreated notifications for `keys` to the ingest function, as S3 and Lambda would."""
        template = load_event("ingest_product_image")["Records"][0]
        records = []
        for key in keys:
            record = copy.deepcopy(template)
            record["eventName"] = event_name
            record["s3"]["bucket"]["name"] = self.bucket
            record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{self.bucket}"
            record["s3"]["object"]["key"] = key
            records.append(record)
        return self.ingest_handler.lambda_handler({"Records": records}, FakeContext())

    def upload_record(self, upload_id: str) -> UploadRecord | None:
        return self.uploads.get(upload_id)

    def object(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def object_type(self, key: str) -> str:
        return str(self.s3.head_object(Bucket=self.bucket, Key=key)["ContentType"])

    def keys(self, prefix: str = "") -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def key_of(self, url: str) -> str:
        assert url.startswith(f"{BASE_URL}/"), url
        return url[len(BASE_URL) + 1 :]


@pytest.fixture
def images(api: Api, moto_services: None, boto3_session: boto3.Session, monkeypatch: pytest.MonkeyPatch) -> Images:
    """The image routes' handler and the ingest handler, each on a runtime built as its container builds it."""
    monkeypatch.setenv("IMAGES_BUCKET_NAME", BUCKET)
    monkeypatch.setenv("IMAGES_BASE_URL", BASE_URL)
    settings = read_settings(ImagesSettings)
    s3 = make_s3_client(settings, boto3_session)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    runtime = ImagesRuntime.build(settings, api.client, s3)
    ingest_runtime = IngestRuntime.build(read_settings(IngestSettings), api.client, s3)
    monkeypatch.setattr(images_handler_module(), "get_images_runtime", lambda: runtime)
    monkeypatch.setattr(ingest_handler_module(), "get_ingest_runtime", lambda: ingest_runtime)
    return Images(api, runtime, ingest_runtime, s3)


def image_urls(count: int) -> list[str]:
    """`count` distinct image URLs, to fill a product up to (or near) its limit."""
    return [f"https://cdn.example.com/{n}.jpg" for n in range(count)]
