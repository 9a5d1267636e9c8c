"""The image routes: POST /api/v1/products/{id}/images (a direct upload), POST .../images/uploads (a presigned
upload) and GET .../images/uploads/{uploadId} (its status).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from products_api import errors as api_errors
from products_api.errors import (
    DomainError,
    InvalidProductId,
    ValidationFailed,
)
from products_api.images.multipart import IMAGE_PART, MAX_IMAGE_BYTES

from products_api_local.openapi import update
from products_api_local.openapi.components import id_parameter, operation_object
from products_api_local.openapi.error_responses import EVERY_ROUTE_ERRORS, ONE_PRODUCT_ERRORS, error_responses
from products_api_local.openapi.examples import EXAMPLE_PRODUCT
from products_api_local.openapi.headers import with_rate_limit_fields

IMAGES_PATH = "/api/v1/products/{id}/images"
UPLOADS_PATH = "/api/v1/products/{id}/images/uploads"
UPLOAD_PATH = "/api/v1/products/{id}/images/uploads/{uploadId}"
ROUTES = ((IMAGES_PATH, "post"), (UPLOADS_PATH, "post"), (UPLOAD_PATH, "get"))
# The handler's folder and module, as Lambda imports them (template.yaml: CodeUri and Handler).
HANDLER_FOLDER = Path("functions") / "upload_product_image"
HANDLER_MODULE = "upload_product_image"
# What each image route can answer besides its success and 500.
DIRECT_UPLOAD_ERRORS: tuple[type[DomainError], ...] = (
    *ONE_PRODUCT_ERRORS,
    ValidationFailed,
    api_errors.InvalidImage,
    api_errors.InvalidIdempotencyKey,
    api_errors.TooManyImages,
    api_errors.IdempotencyInProgress,
    api_errors.PreconditionFailed,
    api_errors.PayloadTooLarge,
    api_errors.UnsupportedMediaType,
    api_errors.IdempotencyKeyReused,
    api_errors.RateLimited,
    api_errors.QuotaExceeded,
    *EVERY_ROUTE_ERRORS,
)
CREATE_UPLOAD_ERRORS: tuple[type[DomainError], ...] = (
    *ONE_PRODUCT_ERRORS,
    api_errors.InvalidJson,
    ValidationFailed,
    api_errors.TooManyImages,
    api_errors.RateLimited,
    api_errors.QuotaExceeded,
    *EVERY_ROUTE_ERRORS,
)
UPLOAD_STATUS_ERRORS: tuple[type[DomainError], ...] = (InvalidProductId, api_errors.UploadNotFound, *EVERY_ROUTE_ERRORS)


def upload_example() -> dict[str, Any]:
    """An upload's status once its image was appended: the status route's 200 example."""
    return {
        "uploadId": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "productId": EXAMPLE_PRODUCT.id,
        "status": "appended",
        "createdAt": "2026-05-09T15:30:00.000Z",
        "updatedAt": "2026-05-09T15:31:12.412Z",
        "imageUrl": f"https://d111111abcdef8.cloudfront.net/images/{EXAMPLE_PRODUCT.id}/0f1e2d3c4b5a69788796a5b4c3d2e1f0.jpg",
        "version": 5,
    }


def createdupload_example() -> dict[str, Any]:
    upload_id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    return {
        "uploadId": upload_id,
        "productId": EXAMPLE_PRODUCT.id,
        "status": "pending",
        "createdAt": "2026-05-09T15:30:00.000Z",
        "upload": {
            "url": "https://products-images-example.s3.amazonaws.com/",
            "fields": {
                "key": f"uploads/{upload_id}",
                "x-amz-algorithm": "AWS4-HMAC-SHA256",
                "x-amz-credential": "ASIAEXAMPLE/20260509/eu-west-1/s3/aws4_request",
                "x-amz-date": "20260509T153000Z",
                "policy": "eyJleHBpcmF0aW9uIjogIjIwMjYtMDUtMDlUMTU6MzU6MDBaIn0=",
                "x-amz-signature": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            },
            "expiresAt": "2026-05-09T15:35:00.000Z",
            "maxBytes": 10 * 1024 * 1024,
        },
    }


def paths(scope: str, read_scope: str, refs: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The three image routes: a direct upload, a presigned upload, and its status."""
    error_ref = refs["ErrorResponse"]
    product_ok = update.ok_response(refs["ProductResponse"])
    product_ok["description"] = (
        "The product with the image's URL appended to `imageUrls` (one write: `version` + 1, in the history and the "
        "events). The URL is served by the deployment's CDN and never reused for other bytes."
    )
    no_store = {
        "description": "`no-store`: the answer is the caller's own.",
        "required": True,
        "schema": {"type": "string"},
    }
    created = {
        "description": "The upload's record and a presigned POST: send `upload.fields` as form fields, a "
        "`Content-Type` field naming the image type (`image/jpeg`, `image/png` or `image/webp`), then the file as the "
        "last part `file`, to `upload.url` before `upload.expiresAt` (5 minutes). The policy admits 1 byte to 10 MB "
        "and `image/*` only. Once the file lands it is judged as the direct upload judges one, then appended or "
        "deleted; read `Location` for the outcome.",
        "headers": {
            "Location": {
                "description": "Where the upload's status is read (GET).",
                "required": True,
                "schema": {"type": "string"},
            },
            "Cache-Control": no_store,
        },
        "content": {"application/json": {"schema": refs["UploadResponse"], "example": createdupload_example()}},
    }
    status_ok = {
        "description": "The upload's status: `pending` until its file has landed and been judged, then `appended` "
        "(with `imageUrl` and the product's `version` after the append) or `rejected` (with `code` and `reason`: "
        "`invalid_image`, `payload_too_large`, `too_many_images` or `not_found`). A pending upload past its expiry "
        "never arrived.",
        "headers": {"Cache-Control": no_store},
        "content": {"application/json": {"schema": refs["UploadResponse"], "example": upload_example()}},
    }
    upload_id = {
        "name": "uploadId",
        "in": "path",
        "required": True,
        "description": "The upload's id, from the `Location` of its 201.",
        "schema": {"type": "string"},
    }
    direct_parameters = [
        parameter for parameter in update.parameters() if parameter["name"] in {"id", "Idempotency-Key", "If-Match"}
    ]
    return {
        IMAGES_PATH: {
            "post": operation_object(
                "uploadProductImage",
                "Append one image to a product",
                f"One image of at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB as `multipart/form-data` "
                f"with one file part `{IMAGE_PART}`: JPEG, PNG or WebP, judged by its content. It is stored under a "
                "key of its own and its URL appended to `imageUrls` in one conditional write (at most 20 images). "
                "Checks run in this order: credential (401, 403), path id (400), media type (415), "
                "`Idempotency-Key` (400), `If-Match` (412), size (413), parts (400 `validation_error`), content "
                "(400 `invalid_image`); then the append (404, 409 `too_many_images`, 412). The idempotency "
                "fingerprint is the method, the product and the SHA-256 of the image.",
                scopes=[scope],
                parameters=direct_parameters,
                request_body={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": [IMAGE_PART],
                                "properties": {
                                    IMAGE_PART: {"type": "string", "contentMediaType": "application/octet-stream"}
                                },
                                "additionalProperties": False,
                            },
                            # a form with one file part; shown as its part, since the bytes are binary
                            "example": {IMAGE_PART: "(the bytes of hero.png)"},
                        }
                    },
                },
                responses=with_rate_limit_fields(
                    {"200": product_ok, **error_responses(scope, error_ref, DIRECT_UPLOAD_ERRORS, reserved_codes=())}
                ),
            )
        },
        UPLOADS_PATH: {
            "post": operation_object(
                "createProductImageUpload",
                "Start a presigned upload of an image (up to 10 MB)",
                "For files too large for the direct upload. Takes no body (or `{}`). Refused at once "
                "when the product already has 20 images.",
                scopes=[scope],
                parameters=[id_parameter()],
                responses=with_rate_limit_fields(
                    {
                        "201": created,
                        **error_responses(scope, error_ref, CREATE_UPLOAD_ERRORS, idempotent=False, reserved_codes=()),
                    }
                ),
            )
        },
        UPLOAD_PATH: {
            "get": operation_object(
                "getProductImageUpload",
                "Read a presigned upload's status",
                "Another company's upload, or another product's, is not found.",
                scopes=[read_scope],
                parameters=[id_parameter(), upload_id],
                responses={
                    "200": status_ok,
                    **error_responses(read_scope, error_ref, UPLOAD_STATUS_ERRORS, idempotent=False, reserved_codes=()),
                },
            )
        },
    }
