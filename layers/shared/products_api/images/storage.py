"""Where images live: the append to a product's `imageUrls` (products table), the bucket (S3), and the records of
presigned uploads (image uploads table). Every AWS call of the image routes and of the ingest function is here, each
failure turned into a domain exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from products_api.core.dynamodb import (
    StoredItem,
    failed_item,
    from_attribute_values,
    put_new,
    to_attribute_values,
    translated_errors,
    update_if,
)
from products_api.errors import ProductNotFound, StoreUnavailable, TooManyImages, UploadNotFound
from products_api.products.fields import MAX_IMAGE_URLS
from products_api.products.items import ProductItem
from products_api.products.models import Product, company_partition, format_timestamp, product_sort_key
from products_api.products.write_memory import write_conditions

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client

    from products_api.products.preconditions import VersionCondition

IMAGES_PREFIX = "images/"
UPLOADS_PREFIX = "uploads/"


class ProductImages:
    """The one write of an image append, on the products table."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def append(
        self,
        company_id: str,
        product_id: str,
        url: str,
        version_condition: VersionCondition,
        updated_at: datetime,
        write_id: str,
        *,
        updated_by: str | None,
    ) -> Product:
        """Append `url` to the product's imageUrls in one conditional UpdateItem, counted as a write like any other
        (version, updatedAt, writeId, updatedBy), so it shows in the history and the events.

        Idempotent: a retry of this write (same write id) or a second delivery of the same image (its URL already
        in the list) changes nothing and answers the product as it is. The failed condition's ALL_OLD image tells
        404, 412 and 409 apart without a read.
        """
        names = {
            "#pk": "pk",
            "#imageUrls": "imageUrls",
            "#version": "version",
            "#updatedAt": "updatedAt",
            "#writeId": "writeId",
            "#updatedBy": "updatedBy",
        }
        values: dict[str, Any] = {
            ":newUrls": [url],
            ":url": url,
            ":noUrls": [],
            ":maxImages": MAX_IMAGE_URLS,
            ":one": 1,
            ":updatedAt": format_timestamp(updated_at),
            ":writeId": write_id,
        }
        assignments = [
            "#imageUrls = list_append(if_not_exists(#imageUrls, :noUrls), :newUrls)",
            "#version = #version + :one",
            "#updatedAt = :updatedAt",
            "#writeId = :writeId",
        ]
        expression = "SET " + ", ".join(assignments)
        if updated_by is None:
            # a write from outside the API must not inherit the previous writer's name
            expression += " REMOVE #updatedBy"
        else:
            values[":updatedBy"] = updated_by
            expression = expression.replace("#writeId = :writeId", "#writeId = :writeId, #updatedBy = :updatedBy")
        conditions = write_conditions(values, version_condition, remember=False)
        conditions += [
            # room for one more image
            "(attribute_not_exists(#imageUrls) OR size(#imageUrls) < :maxImages)",
            # this image is not in the list yet: a duplicate S3 notification or a re-run appends nothing twice
            "(attribute_not_exists(#imageUrls) OR NOT contains(#imageUrls, :url))",
        ]
        key = to_attribute_values({"pk": company_partition(company_id), "sk": product_sort_key(product_id)})
        try:
            written = update_if(self._client, self._table, key, expression, names, values, conditions)
        except ClientError as exc:
            old = failed_item(exc)
            if old is None:
                raise ProductNotFound(product_id) from exc
            stored = ProductItem.model_validate(old)
            current = stored.to_product()
            if stored.write_id == write_id or url in current.image_urls:
                # an earlier attempt or delivery of this very image got through: the product as it is is the answer
                return current
            if not version_condition.matches(current.version):
                raise version_condition.failure(current.version, current.etag) from exc
            raise TooManyImages(
                f"the product already has {len(current.image_urls)} images, the most allowed ({MAX_IMAGE_URLS}); "
                "remove one with PATCH imageUrls first"
            ) from exc
        return ProductItem.model_validate(written).to_product()


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


class ImageBucket:
    """The private bucket: served images under images/, presigned uploads landing under uploads/."""

    def __init__(self, client: S3Client) -> None:
        self._client = client

    def put_image(self, bucket: str, key: str, data: bytes, media_type: str) -> None:
        with _s3_errors():
            self._client.put_object(
                Bucket=bucket,
                Key=key,
                Body=data,
                ContentType=media_type,
                # a URL never changes its bytes: caches may keep it for good
                CacheControl="public, max-age=31536000, immutable",
            )

    def copy_image(self, bucket: str, source_key: str, key: str, media_type: str) -> None:
        """Copy an upload to its served key, with the type its content showed (not the one the client declared)."""
        with _s3_errors():
            self._client.copy_object(
                Bucket=bucket,
                Key=key,
                CopySource={"Bucket": bucket, "Key": source_key},
                MetadataDirective="REPLACE",
                ContentType=media_type,
                CacheControl="public, max-age=31536000, immutable",
            )

    def size(self, bucket: str, key: str) -> int | None:
        """The object's size, or None when it is not there (deleted by an earlier delivery)."""
        try:
            with _s3_errors():
                return int(self._client.head_object(Bucket=bucket, Key=key)["ContentLength"])
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    def read(self, bucket: str, key: str) -> bytes | None:
        try:
            with _s3_errors():
                return self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _missing(exc):
                return None
            raise

    def delete(self, bucket: str, key: str) -> None:
        with _s3_errors():
            self._client.delete_object(Bucket=bucket, Key=key)

    def presigned_post(
        self, bucket: str, key: str, max_bytes: int, expires_in_seconds: int, media_types: tuple[str, ...]
    ) -> PresignedPost:
        """A form POST to `key` only, of 1 to `max_bytes` bytes, with a Content-Type of `media_types` (the client
        declares it; the content is judged again when it lands), valid `expires_in_seconds`.
        """
        conditions: list[Any] = [
            ["content-length-range", 1, max_bytes],
            ["starts-with", "$Content-Type", "image/"],
        ]
        post = self._client.generate_presigned_post(
            Bucket=bucket,
            Key=key,
            Fields={"Content-Type": media_types[0]},
            Conditions=conditions,
            ExpiresIn=expires_in_seconds,
        )
        return PresignedPost(url=post["url"], fields={str(k): str(v) for k, v in post["fields"].items()})


_S3_UNAVAILABLE_CODES = frozenset({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "500", "503"})
_S3_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


@contextmanager
def _s3_errors() -> Iterator[None]:
    """S3's transport failures and overload answers as StoreUnavailable (the caller retries, or Lambda does)."""
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _S3_UNAVAILABLE_CODES:
            raise StoreUnavailable(f"S3 {code}") from exc
        raise
    except BotoCoreError as exc:
        raise StoreUnavailable(f"S3 {type(exc).__name__}") from exc


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in _S3_MISSING_CODES


UploadStatus = Literal["pending", "appended", "rejected"]


class UploadRecord(StoredItem):
    """A presigned upload as stored in the image uploads table (keyed by uploadId alone)."""

    upload_id: str
    company_id: str
    product_id: str
    # who asked for the upload: the append made when it lands is theirs in the history
    credential_id: str | None = None
    bucket: str
    key: str
    # the URL base the image will be served from, fixed when the upload is handed out
    base_url: str
    status: UploadStatus
    created_at: str
    # until when the presigned POST may be used
    upload_expires_at: str
    # epoch seconds: DynamoDB's TTL removes the record after this
    expires_at: int
    updated_at: str | None = None
    image_url: str | None = None
    version: int | None = None
    # why the file was refused: an error code of the API and its sentence
    code: str | None = None
    reason: str | None = None


class UploadRecords:
    """The image uploads table: one record per presigned upload, its status moved once from pending."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def create(self, record: UploadRecord) -> None:
        # upload ids are never reused
        put_new(self._client, self._table, record, "uploadId")

    def get(self, upload_id: str) -> UploadRecord | None:
        with translated_errors():
            response = self._client.get_item(
                TableName=self._table, Key=to_attribute_values({"uploadId": upload_id}), ConsistentRead=True
            )
        item = response.get("Item")
        return UploadRecord.model_validate(from_attribute_values(item)) if item else None

    def get_for(self, company_id: str, product_id: str, upload_id: str) -> UploadRecord:
        """The caller's upload for this product; anyone else's (or none) is not found."""
        record = self.get(upload_id)
        if record is None or record.company_id != company_id or record.product_id != product_id:
            raise UploadNotFound(f"no upload {upload_id} for product {product_id}")
        return record

    def settle(
        self,
        upload_id: str,
        status: UploadStatus,
        updated_at: datetime,
        *,
        image_url: str | None = None,
        version: int | None = None,
        code: str | None = None,
        reason: str | None = None,
    ) -> bool:
        """Move a pending upload to `status`; False when it had already left pending (a duplicate delivery)."""
        fields: dict[str, Any] = {"status": status, "updatedAt": format_timestamp(updated_at)}
        for name, value in (("imageUrl", image_url), ("version", version), ("code", code), ("reason", reason)):
            if value is not None:
                fields[name] = value
        names = {f"#f{position}": name for position, name in enumerate(fields)}
        values = {f":f{position}": value for position, value in enumerate(fields.values())}
        names["#uploadId"] = "uploadId"
        values[":pending"] = "pending"
        try:
            with translated_errors(expected=frozenset({"ConditionalCheckFailedException"})):
                self._client.update_item(
                    TableName=self._table,
                    Key=to_attribute_values({"uploadId": upload_id}),
                    UpdateExpression="SET "
                    + ", ".join(f"#f{position} = :f{position}" for position in range(len(fields))),
                    # the record exists and is still waiting for its file: a status is set once
                    ConditionExpression="attribute_exists(#uploadId) AND #f0 = :pending",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=to_attribute_values(values),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError:
            return False
        return True
