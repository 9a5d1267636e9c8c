"""The image routes and the ingest of presigned uploads: store the file, append its URL, answer or record the outcome.

- `DirectUploadService`: POST .../images, under Powertools idempotency as PATCH is (the fingerprint is the method,
  the product and the SHA-256 of the image's bytes).
- `UploadService`: POST .../images/uploads (a presigned POST and its record) and GET .../images/uploads/{uploadId}.
- `IngestService`: what the S3 notification of a landed upload runs: the same checks, then the append or the refusal.

Image keys are never reused: images/{product}/{token}.{ext}, where the token is derived from the write id (unique per
request, or per Idempotency-Key) and the image's hash, or is the upload id. A key thus names one content for good.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from products_api.api.idempotency import IdempotencyStore, IdempotentWrite, keyed_write_id
from products_api.errors import PreconditionFailed, ProductNotFound, TooManyImages
from products_api.images.requests import (
    CreateUploadRequest,
    DirectUploadRequest,
    PresignedUploadForm,
    UploadStatusRequest,
    upload_created_outcome,
    upload_status_outcome,
)
from products_api.images.storage import IMAGES_PREFIX, UPLOADS_PREFIX, UploadRecord
from products_api.images.validation import InvalidImageData, inspect_image
from products_api.products.fields import MAX_IMAGE_URLS
from products_api.products.models import Product, format_timestamp, utc_now
from products_api.products.preconditions import ANY_VERSION

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from products_api.api.responses import Outcome
    from products_api.auth.credentials import Principal
    from products_api.images.storage import ImageBucket, ProductImages, UploadRecords
    from products_api.products.store import ProductStore

# Outcomes that are the append's answer, kept for replay; anything else raised drops the record.
KEPT_ERRORS = (ProductNotFound, PreconditionFailed, TooManyImages)
IDEMPOTENCY_KEY_PREFIX = "products-api#upload-product-image"
METHOD = "POST"
# What a presigned upload may carry (the direct route is bounded by what Lambda can carry, see multipart.py).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")


def image_key(product_id: str, token: str, extension: str) -> str:
    return f"{IMAGES_PREFIX}{product_id}/{token}.{extension}"


def upload_key(upload_id: str) -> str:
    return f"{UPLOADS_PREFIX}{upload_id}"


def image_url(base_url: str, key: str) -> str:
    return f"{base_url}/{quote(key)}"


def _write_id(company_id: str, request: DirectUploadRequest) -> str:
    """The same for every run of one request (company, Idempotency-Key, product and image), as PATCH's: another
    image with the same key (once its record has expired) is another write."""
    if request.idempotency_key is None:
        return uuid.uuid4().hex
    return keyed_write_id(company_id, request.idempotency_key, request.product_id, f"image:{request.sha256}")


def upload_write_id(upload_id: str) -> str:
    """The append of one upload, the same on every delivery of its notification."""
    return hashlib.sha256(f"upload#{upload_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ImageTarget:
    """Where images go: the bucket, and the URL base its images/ prefix is served from."""

    bucket_name: str
    base_url: str


@dataclass(frozen=True)
class AppendCommand:
    company_id: str
    product_id: str
    request: DirectUploadRequest
    write_id: str
    updated_by: str | None


class DirectUploadService:
    def __init__(
        self,
        images: ProductImages,
        bucket: ImageBucket,
        target: ImageTarget,
        idempotency: IdempotencyStore,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._images = images
        self._bucket = bucket
        self._target = target
        self._clock = clock
        self._writes: IdempotentWrite[AppendCommand] = IdempotentWrite(KEPT_ERRORS, IDEMPOTENCY_KEY_PREFIX, idempotency)

    def register_lambda_context(self, context: LambdaContext) -> None:
        """So an interrupted request's in-progress record expires with the function's own time limit."""
        self._writes.register_lambda_context(context)

    def append(self, command: AppendCommand) -> Product:
        """Store the image under a key of its own, then append its URL; the object goes again if the append is
        refused (it is referenced by nothing, and its key is never used again).
        """
        request = command.request
        token = hashlib.sha256(f"{command.write_id}#{request.sha256}".encode()).hexdigest()[:32]
        key = image_key(command.product_id, token, request.info.extension)
        self._bucket.put_image(self._target.bucket_name, key, request.image.data, request.info.media_type)
        try:
            return self._images.append(
                command.company_id,
                command.product_id,
                image_url(self._target.base_url, key),
                request.version_condition,
                self._clock(),
                command.write_id,
                updated_by=command.updated_by,
            )
        except KEPT_ERRORS:
            self._bucket.delete(self._target.bucket_name, key)
            raise

    def handle(self, principal: Principal, request: DirectUploadRequest, request_id: str) -> Outcome:
        command = AppendCommand(
            company_id=principal.company_id,
            product_id=request.product_id,
            request=request,
            write_id=_write_id(principal.company_id, request),
            updated_by=principal.credential_id,
        )
        if request.idempotency_key is None:
            return self._writes.once(self.append, command, request_id)
        # the same key with another image, product or method is a reuse (422)
        fingerprint = {"method": METHOD, "productId": request.product_id, "imageSha256": request.sha256}
        return self._writes.keyed(
            self.append, lambda: command, request_id, principal.company_id, request.idempotency_key, fingerprint
        )


@dataclass(frozen=True)
class UploadService:
    """Presigned uploads: hand one out (with its record), and tell its status."""

    products: ProductStore
    uploads: UploadRecords
    bucket: ImageBucket
    target: ImageTarget
    # a presigned POST's life, and how long an upload's record (its status) is kept
    expiry_seconds: int
    record_days: int
    clock: Callable[[], datetime] = utc_now

    def create(self, principal: Principal, request: CreateUploadRequest) -> Outcome:
        product = self.products.get(principal.company_id, request.product_id)
        if product is None:
            raise ProductNotFound(request.product_id)
        if len(product.image_urls) >= MAX_IMAGE_URLS:
            # refused now rather than after the client sent 10 MB (the append checks again when the file lands)
            raise TooManyImages(
                f"the product already has {len(product.image_urls)} images, the most allowed ({MAX_IMAGE_URLS}); "
                "remove one with PATCH imageUrls first"
            )
        now = self.clock()
        upload_id = uuid.uuid4().hex
        upload_expires = now + timedelta(seconds=self.expiry_seconds)
        record = UploadRecord(
            upload_id=upload_id,
            company_id=principal.company_id,
            product_id=request.product_id,
            credential_id=principal.credential_id,
            bucket=self.target.bucket_name,
            key=upload_key(upload_id),
            base_url=self.target.base_url,
            status="pending",
            created_at=format_timestamp(now),
            upload_expires_at=format_timestamp(upload_expires),
            expires_at=int((now + timedelta(days=self.record_days)).timestamp()),
        )
        post = self.bucket.presigned_post(
            record.bucket, record.key, MAX_UPLOAD_BYTES, self.expiry_seconds, UPLOAD_MEDIA_TYPES
        )
        self.uploads.create(record)
        form = PresignedUploadForm(
            url=post.url, fields=post.fields, expires_at=record.upload_expires_at, max_bytes=MAX_UPLOAD_BYTES
        )
        return upload_created_outcome(record, form)

    def status(self, principal: Principal, request: UploadStatusRequest) -> Outcome:
        record = self.uploads.get_for(principal.company_id, request.product_id, request.upload_id)
        return upload_status_outcome(record)


@dataclass(frozen=True)
class IngestResult:
    """What one notification did: `appended`, `rejected`, or `ignored` (a duplicate, or not an upload of ours)."""

    outcome: str
    upload_id: str | None = None
    detail: str | None = None


class IngestService:
    """A landed upload: judged as the direct route judges a file, then appended, or deleted with the reason kept."""

    def __init__(
        self,
        images: ProductImages,
        uploads: UploadRecords,
        bucket: ImageBucket,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._images = images
        self._uploads = uploads
        self._bucket = bucket
        self._clock = clock

    def ingest(self, bucket: str, key: str) -> IngestResult:
        if not key.startswith(UPLOADS_PREFIX):
            return IngestResult("ignored", detail=f"{key} is not under {UPLOADS_PREFIX}")
        upload_id = key[len(UPLOADS_PREFIX) :]
        record = self._uploads.get(upload_id)
        if record is None or record.key != key or record.bucket != bucket:
            # no presigned POST of ours names this key (or its record expired): nothing may be appended from it
            self._bucket.delete(bucket, key)
            return IngestResult("ignored", upload_id, "no upload record for this key: the file was deleted")
        if record.status != "pending":
            return IngestResult("ignored", upload_id, f"already {record.status} (a repeated notification)")
        size = self._bucket.size(bucket, key)
        if size is None:
            return IngestResult("ignored", upload_id, "the file is gone (handled by an earlier notification)")
        if size > MAX_UPLOAD_BYTES:
            # the policy's content-length-range keeps these out of S3; checked again all the same
            return self._reject(record, "payload_too_large", f"the file is {size} bytes; at most {MAX_UPLOAD_BYTES}")
        data = self._bucket.read(bucket, key)
        if data is None:
            return IngestResult("ignored", upload_id, "the file is gone (handled by an earlier notification)")
        try:
            info = inspect_image(data)
        except InvalidImageData as exc:
            return self._reject(record, "invalid_image", str(exc))
        served_key = image_key(record.product_id, upload_id, info.extension)
        self._bucket.copy_image(bucket, key, served_key, info.media_type)
        try:
            product = self._images.append(
                record.company_id,
                record.product_id,
                image_url(record.base_url, served_key),
                ANY_VERSION,
                self._clock(),
                upload_write_id(upload_id),
                updated_by=record.credential_id,
            )
        except (ProductNotFound, TooManyImages) as exc:
            self._bucket.delete(bucket, served_key)
            code = "not_found" if isinstance(exc, ProductNotFound) else "too_many_images"
            message = "the product no longer exists" if isinstance(exc, ProductNotFound) else str(exc)
            return self._reject(record, code, message)
        url = image_url(record.base_url, served_key)
        self._uploads.settle(upload_id, "appended", self._clock(), image_url=url, version=product.version)
        # the upload itself is no longer needed (the lifecycle rule would remove it after a day anyway)
        self._bucket.delete(bucket, key)
        return IngestResult("appended", upload_id, url)

    def _reject(self, record: UploadRecord, code: str, reason: str) -> IngestResult:
        self._uploads.settle(record.upload_id, "rejected", self._clock(), code=code, reason=reason[:500])
        self._bucket.delete(record.bucket, record.key)
        return IngestResult("rejected", record.upload_id, f"{code}: {reason}")
