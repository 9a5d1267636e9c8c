"""The image routes' HTTP edge: reading their requests, and the shapes of their answers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from products_api.api.requests import idempotency_key_of, product_id_from_path, raw_body
from products_api.api.responses import Outcome
from products_api.core import jsonio
from products_api.errors import (
    FieldProblem,
    InvalidImage,
    UploadNotFound,
    ValidationFailed,
)
from products_api.images.multipart import ImagePart, boundary_of, read_image_part
from products_api.images.storage import UploadRecord, UploadStatus
from products_api.images.validation import ImageInfo, InvalidImageData, inspect_image
from products_api.products.preconditions import VersionCondition, parse_if_match

_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class DirectUploadRequest:
    product_id: str
    image: ImagePart
    info: ImageInfo
    # hex SHA-256 of the image's bytes: what an idempotent replay must match, and part of the object's key
    sha256: str
    idempotency_key: str | None
    version_condition: VersionCondition


def parse_direct_upload(
    event: Mapping[str, Any], headers: Mapping[str, str], raw_product_id: str
) -> DirectUploadRequest:
    """Check a direct upload in the order a client can act on: id, media type, headers, size and parts, content."""
    product_id = product_id_from_path(raw_product_id)
    content_type = headers.get("content-type")
    boundary_of(content_type)  # 415 before anything is decoded
    idempotency_key = idempotency_key_of(headers, "Idempotency-Key must be a UUID version 4")
    version_condition = parse_if_match(headers.get("if-match"))
    # API Gateway base64-encodes every multipart body; a text one can only be what the client sent as text
    image = read_image_part(raw_body(event, keep_surrogates=True), content_type)
    try:
        info = inspect_image(image.data)
    except InvalidImageData as exc:
        raise InvalidImage(str(exc)) from exc
    return DirectUploadRequest(
        product_id=product_id,
        image=image,
        info=info,
        sha256=hashlib.sha256(image.data).hexdigest(),
        idempotency_key=idempotency_key,
        version_condition=version_condition,
    )


@dataclass(frozen=True)
class CreateUploadRequest:
    product_id: str


def parse_create_upload(event: Mapping[str, Any], raw_product_id: str) -> CreateUploadRequest:
    """The presigned upload takes no parameters: an empty body, or an empty JSON object."""
    product_id = product_id_from_path(raw_product_id)
    raw = raw_body(event, keep_surrogates=True)
    if raw.strip():
        document = jsonio.parse_object(raw)
        if document:
            raise ValidationFailed(
                [FieldProblem(field=name, message="is not a known field (send no body, or {})") for name in document]
            )
    return CreateUploadRequest(product_id=product_id)


@dataclass(frozen=True)
class UploadStatusRequest:
    product_id: str
    upload_id: str


def parse_upload_status(raw_product_id: str, raw_upload_id: str) -> UploadStatusRequest:
    product_id = product_id_from_path(raw_product_id)
    if not _UPLOAD_ID.fullmatch(raw_upload_id):
        # not an id this API hands out: no such upload (as for anyone else's)
        raise UploadNotFound(f"no upload {raw_upload_id[:64]!r}")
    return UploadStatusRequest(product_id=product_id, upload_id=raw_upload_id)


# --- answers -----------------------------------------------------------------------------------------------------


class PresignedUploadForm(BaseModel):
    """How to send the file: a form POST to `url` with `fields` first, then the file as the part `file`."""

    # The answer's members are camelCase: aliases spell them (serialised by alias); Python code uses snake_case.
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True)

    url: str
    fields: dict[str, str]
    expires_at: str = Field(json_schema_extra={"format": "date-time"})
    max_bytes: int


class UploadResponse(BaseModel):
    """An upload's status: `pending` until its file has landed and been judged, then `appended` or `rejected`."""

    # camelCase members through aliases, as PresignedUploadForm
    model_config = ConfigDict(
        defer_build=True, alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True
    )

    upload_id: str = Field(description="The upload's id: its status is at `Location`.")
    product_id: str = Field(description="The product the image is appended to.")
    status: UploadStatus = Field(description="`pending` until the file has landed and been judged.")
    created_at: str = Field(json_schema_extra={"format": "date-time"}, description="When the upload was handed out.")
    updated_at: str | None = Field(
        None, json_schema_extra={"format": "date-time"}, description="When the upload left `pending`."
    )
    image_url: str | None = Field(None, description="`appended`: the image's URL, now in the product's `imageUrls`.")
    version: int | None = Field(None, description="`appended`: the product's version the append made.")
    code: str | None = Field(None, description="`rejected`: the error code the file was refused with.")
    reason: str | None = Field(None, description="`rejected`: why, in a sentence.")
    upload: PresignedUploadForm | None = Field(None, description="How to send the file (in the 201 answer only).")

    @classmethod
    def from_record(cls, record: UploadRecord, upload: PresignedUploadForm | None = None) -> UploadResponse:
        # every member but the form is the record's own, under the same name
        shown = cls.model_fields.keys() - {"upload"}
        return cls(**{name: getattr(record, name) for name in shown}, upload=upload)

    def to_json(self) -> str:
        return jsonio.dumps(self.model_dump(exclude_none=True))


def upload_location(product_id: str, upload_id: str) -> str:
    return f"/api/v1/products/{product_id}/images/uploads/{upload_id}"


def upload_created_outcome(record: UploadRecord, form: PresignedUploadForm) -> Outcome:
    return Outcome(
        201,
        UploadResponse.from_record(record, form).to_json(),
        # the form holds a signature: no cache may keep it
        {"Location": upload_location(record.product_id, record.upload_id), "Cache-Control": "no-store"},
    )


def upload_status_outcome(record: UploadRecord) -> Outcome:
    return Outcome(200, UploadResponse.from_record(record).to_json(), {"Cache-Control": "no-store"})
