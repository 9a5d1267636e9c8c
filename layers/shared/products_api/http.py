"""The HTTP edge: reading a PATCH request and a history request, and the one place where exceptions become responses."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from products_api import jsonio
from products_api.errors import (
    ConcurrentUpdate,
    DomainError,
    DuplicateModel,
    FieldProblem,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InsufficientScope,
    InvalidCursor,
    InvalidIdempotencyKey,
    InvalidJson,
    InvalidProductId,
    InvalidStoredValue,
    PayloadTooLarge,
    PreconditionFailed,
    ProductNotFound,
    StoreUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from products_api.models import READ_ONLY_FIELDS, ErrorDetail, ErrorResponse, Product, ProductPatch, ProductResponse
from products_api.preconditions import VersionCondition, parse_if_match
from products_api.product_history import HistoryEntryResponse, HistoryResponse

if TYPE_CHECKING:
    from products_api.history import HistoryPage

MAX_BODY_BYTES = 256 * 1024
REALM = "products-api"
_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE)


@dataclass(frozen=True)
class Outcome:
    """A response as the API answers it, and as the idempotency record keeps it."""

    status_code: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False
    # the error's stable code (None on success): what logs and metrics report
    code: str | None = None

    def to_record(self) -> dict[str, Any]:
        return {"statusCode": self.status_code, "body": self.body, "headers": self.headers, "code": self.code}

    @classmethod
    def from_record(cls, record: Mapping[str, Any], *, replayed: bool = False) -> Outcome:
        code = record.get("code")  # records kept before codes were recorded have none
        return cls(
            status_code=int(record["statusCode"]),
            body=str(record["body"]),
            headers={str(k): str(v) for k, v in record.get("headers", {}).items()},
            replayed=replayed,
            code=str(code) if code is not None else None,
        )

    def response_headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", **self.headers}
        if self.replayed:
            headers["Idempotent-Replayed"] = "true"
        return headers


@dataclass(frozen=True)
class PatchRequest:
    product_id: str
    patch: ProductPatch
    # the body as one canonical JSON text: what an idempotent replay must match
    body_fingerprint: str
    idempotency_key: str | None
    version_condition: VersionCondition


def product_id_from_path(raw: str) -> str:
    if not _OBJECT_ID.fullmatch(raw):
        raise InvalidProductId("product id must be a 24-character hexadecimal ObjectId")
    return raw.lower()


def _check_content_type(value: str | None) -> None:
    if not value:
        raise UnsupportedMediaType("send the body as JSON with `Content-Type: application/json`")
    media_type, *parameters = (part.strip() for part in value.split(";"))
    if media_type.lower() != "application/json":
        raise UnsupportedMediaType(f"Content-Type {media_type!r} is not supported: send application/json")
    for parameter in parameters:
        name, _, parameter_value = parameter.partition("=")
        if name.strip().lower() == "charset" and parameter_value.strip().strip('"').lower() not in {"utf-8", "utf8"}:
            raise UnsupportedMediaType("the body must be UTF-8 (charset=utf-8)")


def _raw_body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidJson("body is not valid base64") from exc
    try:
        return str(body).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidJson("body is not valid UTF-8") from exc


def _field_problems(error: ValidationError) -> list[FieldProblem]:
    """One entry per top-level field, every message for it joined, in the order the body gave them."""
    messages: dict[str, list[str]] = {}
    for item in error.errors():
        location = item["loc"]
        name = str(location[0]) if location else "body"
        if item["type"] == "extra_forbidden":
            message = "is read-only and cannot be changed" if name in READ_ONLY_FIELDS else "is not a known field"
        else:
            message = item["msg"]
            if len(location) > 1:
                message = f"item {location[1]}: {message}"
        if message not in messages.setdefault(name, []):
            messages[name].append(message)
    return [FieldProblem(field=name, message="; ".join(texts)) for name, texts in messages.items()]


def parse_patch_request(event: Mapping[str, Any], headers: Mapping[str, str], raw_product_id: str) -> PatchRequest:
    """Check a PATCH in the order a client can act on: id, media type, size, headers, JSON, fields."""
    product_id = product_id_from_path(raw_product_id)
    _check_content_type(headers.get("content-type"))
    raw = _raw_body(event)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is {len(raw)} bytes; at most {MAX_BODY_BYTES} are accepted")
    idempotency_key = headers.get("idempotency-key")
    if idempotency_key is not None and not _UUID4.fullmatch(idempotency_key.strip()):
        raise InvalidIdempotencyKey("Idempotency-Key must be a UUID version 4")
    version_condition = parse_if_match(headers.get("if-match"))
    document = jsonio.parse_object(raw)
    try:
        patch = ProductPatch.model_validate(document)
    except ValidationError as exc:
        raise ValidationFailed(_field_problems(exc)) from exc
    return PatchRequest(
        product_id=product_id,
        patch=patch,
        body_fingerprint=jsonio.canonical(document),
        idempotency_key=idempotency_key.strip().lower() if idempotency_key is not None else None,
        version_condition=version_condition,
    )


def product_outcome(product: Product) -> Outcome:
    return Outcome(200, ProductResponse.from_product(product).to_json(), {"ETag": product.etag})


# --- GET /api/v1/products/{id}/history --------------------------------------------------------------------------

HISTORY_LIMIT_DEFAULT = 20
HISTORY_LIMIT_MAX = 100
HISTORY_QUERY_PARAMETERS = ("limit", "cursor")
# Cursors this API hands out are ~60 characters; anything much longer is not one of them.
MAX_CURSOR_LENGTH = 200
# Versions count writes: far below this. A bigger number could not be sent to DynamoDB as a key value anyway.
_MAX_CURSOR_VERSION = 2**63 - 1
_LIMIT = re.compile(r"[0-9]{1,3}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_NOT_OUR_CURSOR = "cursor is not one this API handed out: send the nextCursor of the previous page as is"


@dataclass(frozen=True)
class HistoryRequest:
    product_id: str
    limit: int
    # continue below this version (from the cursor); None: from the newest
    before_version: int | None


def encode_cursor(product_id: str, before_version: int) -> str:
    """Opaque to clients: base64url (unpadded) of a compact JSON naming the product and where to continue."""
    text = json.dumps({"p": product_id, "v": before_version}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, product_id: str) -> int:
    """The version to continue below. Only a cursor this API handed out for this product is accepted: anything
    else (garbled, edited, re-encoded, or another product's) is refused rather than silently read from elsewhere.
    """
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not _BASE64URL.fullmatch(cursor):
        raise InvalidCursor(_NOT_OUR_CURSOR)
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidCursor(_NOT_OUR_CURSOR) from exc
    if not isinstance(document, dict):
        raise InvalidCursor(_NOT_OUR_CURSOR)
    owner, version = document.get("p"), document.get("v")
    if not (
        isinstance(owner, str)
        and isinstance(version, int)
        and not isinstance(version, bool)
        and 1 <= version <= _MAX_CURSOR_VERSION
        # the exact text this API writes for these values: an edited or hand-made cursor differs
        and encode_cursor(owner, version) == cursor
    ):
        raise InvalidCursor(_NOT_OUR_CURSOR)
    if owner != product_id:
        raise InvalidCursor("cursor belongs to another product's history")
    return version


def parse_history_request(query: Mapping[str, str], raw_product_id: str) -> HistoryRequest:
    """Check a history request: the id, then every query parameter problem at once, then the cursor."""
    product_id = product_id_from_path(raw_product_id)
    problems = [
        FieldProblem(
            field=name, message=f"is not a known query parameter (known: {', '.join(HISTORY_QUERY_PARAMETERS)})"
        )
        for name in query
        if name not in HISTORY_QUERY_PARAMETERS
    ]
    limit = HISTORY_LIMIT_DEFAULT
    raw_limit = query.get("limit")
    if raw_limit is not None:
        if _LIMIT.fullmatch(raw_limit) and 1 <= int(raw_limit) <= HISTORY_LIMIT_MAX:
            limit = int(raw_limit)
        else:
            problems.append(
                FieldProblem(field="limit", message=f"must be a whole number from 1 to {HISTORY_LIMIT_MAX}")
            )
    if problems:
        raise ValidationFailed(problems)
    raw_cursor = query.get("cursor")
    before_version = decode_cursor(raw_cursor, product_id) if raw_cursor is not None else None
    return HistoryRequest(product_id=product_id, limit=limit, before_version=before_version)


def history_outcome(page: HistoryPage, product_id: str) -> Outcome:
    next_cursor = encode_cursor(product_id, page.next_before_version) if page.next_before_version is not None else None
    body = HistoryResponse(
        items=[HistoryEntryResponse.from_entry(entry) for entry in page.entries], next_cursor=next_cursor
    )
    # A product's history is per caller and grows: no cache may keep or reuse it.
    return Outcome(200, body.to_json(), {"Cache-Control": "no-store"})


@dataclass(frozen=True)
class _ErrorSpec:
    status: int
    code: str
    # None: the exception's own sentence is the message
    message: str | None = None


# The contract's error table, in one place.
_ERRORS: dict[type[DomainError], _ErrorSpec] = {
    InvalidProductId: _ErrorSpec(400, "invalid_id"),
    InvalidJson: _ErrorSpec(400, "invalid_json"),
    ValidationFailed: _ErrorSpec(400, "validation_error", "Validation failed"),
    InvalidStoredValue: _ErrorSpec(400, "validation_error", "Validation failed"),
    InvalidIdempotencyKey: _ErrorSpec(400, "invalid_idempotency_key"),
    InvalidCursor: _ErrorSpec(400, "invalid_cursor"),
    Unauthorized: _ErrorSpec(401, "unauthorized"),
    InsufficientScope: _ErrorSpec(403, "insufficient_scope"),
    ProductNotFound: _ErrorSpec(404, "not_found", "Product not found"),
    DuplicateModel: _ErrorSpec(409, "duplicate_model", "A product with this model already exists for your company"),
    IdempotencyInProgress: _ErrorSpec(
        409, "idempotency_in_progress", "A request with this Idempotency-Key is still being processed"
    ),
    PreconditionFailed: _ErrorSpec(412, "precondition_failed"),
    PayloadTooLarge: _ErrorSpec(413, "payload_too_large"),
    UnsupportedMediaType: _ErrorSpec(415, "unsupported_media_type"),
    IdempotencyKeyReused: _ErrorSpec(
        422,
        "idempotency_key_reused",
        "This Idempotency-Key was used with a different request (body, product or method)",
    ),
    StoreUnavailable: _ErrorSpec(503, "unavailable", "The service is temporarily unavailable; nothing was written"),
    ConcurrentUpdate: _ErrorSpec(
        409,
        "concurrent_update",
        "Other requests kept changing this product while this one retried; nothing was written, retry shortly",
    ),
}
_INTERNAL = _ErrorSpec(500, "internal_error", "Internal server error")


def error_codes() -> frozenset[str]:
    """Every code an error response can carry."""
    return frozenset(spec.code for spec in (*_ERRORS.values(), _INTERNAL))


RETRY_AFTER_SECONDS = "1"


def _error_headers(exc: Exception, spec: _ErrorSpec) -> dict[str, str]:
    if isinstance(exc, Unauthorized):
        challenge = f'Bearer realm="{REALM}"'
        if exc.token_presented:
            challenge += ', error="invalid_token"'
        return {"WWW-Authenticate": challenge}
    if isinstance(exc, InsufficientScope):
        return {"WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope", scope="{exc.scope}"'}
    if isinstance(exc, PreconditionFailed) and exc.current_etag:
        return {"ETag": exc.current_etag}
    if spec.status in {409, 503} and spec.code != "duplicate_model":
        return {"Retry-After": RETRY_AFTER_SECONDS}
    return {}


def _message(exc: Exception, spec: _ErrorSpec) -> str:
    if spec.message is not None:
        return spec.message
    text = str(exc).strip()
    return text[:1].upper() + text[1:] if text else spec.code.replace("_", " ").capitalize()


def error_outcome(exc: Exception, request_id: str) -> Outcome:
    """Every error response is built here; anything unknown is a 500 with nothing internal in it."""
    spec = _INTERNAL
    for error_type in type(exc).__mro__:
        if error_type in _ERRORS:
            spec = _ERRORS[error_type]
            break
    details: list[ErrorDetail] | None = None
    if isinstance(exc, ValidationFailed):
        details = [ErrorDetail(field=p.field, message=p.message) for p in exc.problems]
    elif isinstance(exc, InvalidStoredValue):
        details = [ErrorDetail(field="body", message="a value in the body cannot be stored")]
    body = ErrorResponse(error=_message(exc, spec), code=spec.code, details=details, requestId=request_id)
    return Outcome(
        spec.status, jsonio.dumps(body.model_dump(exclude_none=True)), _error_headers(exc, spec), code=spec.code
    )
