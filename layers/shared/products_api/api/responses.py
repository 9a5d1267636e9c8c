"""The HTTP answers: a product, a page of history, and every error (the catalogue's entry for the exception)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from products_api.api import messages
from products_api.api.catalogue import ApiError, api_error
from products_api.api.cursor import encode_cursor
from products_api.core import jsonio
from products_api.errors import (
    DomainError,
    FieldProblem,
    InsufficientScope,
    InvalidStoredValue,
    PreconditionFailed,
    QuotaExceeded,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from products_api.history.reader import HistoryEntryResponse, HistoryResponse
from products_api.products.fields import omit_null
from products_api.products.models import Product
from products_api.products.responses import product_json

if TYPE_CHECKING:
    from products_api.history.store import HistoryPage

REALM = "products-api"


class ErrorDetail(BaseModel):
    # Error bodies are built on the first error a container answers, not at import: a 200 never needs them.
    model_config = ConfigDict(defer_build=True)

    field: str
    message: str


class ErrorResponse(BaseModel):
    """Every error body."""

    model_config = ConfigDict(defer_build=True, validate_by_name=True, serialize_by_alias=True)

    error: str = Field(description="A human sentence.")
    code: str = Field(description="Stable, for programs.")
    details: list[ErrorDetail] | None = Field(
        default=None, description="Only for validation_error: one per field.", json_schema_extra=omit_null
    )
    request_id: str = Field(alias="requestId")


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
        # a 304 has no body, hence no media type
        headers = {"Content-Type": "application/json", **self.headers} if self.body else dict(self.headers)
        if self.replayed:
            headers["Idempotent-Replayed"] = "true"
        return headers


def product_outcome(product: Product) -> Outcome:
    return Outcome(200, product_json(product), {"ETag": product.etag})


def history_outcome(page: HistoryPage, product_id: str) -> Outcome:
    next_cursor = encode_cursor(product_id, page.next_before_version) if page.next_before_version is not None else None
    body = HistoryResponse(
        items=[HistoryEntryResponse.from_entry(entry) for entry in page.entries], next_cursor=next_cursor
    )
    # A product's history is per caller and grows: no cache may keep or reuse it.
    return Outcome(200, body.to_json(), {"Cache-Control": "no-store"})


RETRY_AFTER_SECONDS = "1"


def _error_headers(exc: Exception, spec: ApiError) -> dict[str, str]:
    if isinstance(exc, Unauthorized):
        challenge = f'Bearer realm="{REALM}"'
        if exc.token_presented:
            challenge += ', error="invalid_token"'
        return {"WWW-Authenticate": challenge}
    if isinstance(exc, InsufficientScope):
        return {"WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope", scope="{exc.scope}"'}
    if isinstance(exc, RateLimited | QuotaExceeded):
        return {"Retry-After": str(exc.retry_after_seconds), **exc.headers}
    if isinstance(exc, PreconditionFailed) and exc.current_etag:
        return {"ETag": exc.current_etag}
    if spec.status in {409, 503} and spec.code not in {"duplicate_model", "too_many_images"}:
        return {"Retry-After": RETRY_AFTER_SECONDS}
    return {}


def _message(exc: Exception, spec: ApiError, language: str) -> str:
    text = str(exc).strip()
    english = text[:1].upper() + text[1:] if text else ""
    if isinstance(exc, DomainError):
        return messages.error_sentence(spec.code, language, spec.message, exc.reason, exc.params, english)
    # anything else is a bug: the catalogue's sentence, never the exception's text
    return messages.error_sentence(spec.code, language, spec.message, None, {}, "")


def _detail(problem: FieldProblem, language: str) -> ErrorDetail:
    parts = problem.message_parts()
    if not parts:
        # a problem raised without a reason: its English text, or in another language a plain "is not valid"
        text = problem.message if language == messages.DEFAULT_LANGUAGE else messages.detail_sentence("", {}, language)
        return ErrorDetail(field=problem.field, message=text)
    text = "; ".join(messages.detail_sentence(part.reason, part.params, language, part.item) for part in parts)
    return ErrorDetail(field=problem.field, message=text)


def error_outcome(exc: Exception, request_id: str, language: str | None = None) -> Outcome:
    """Every error response is built here; anything unknown is a 500 with nothing internal in it.

    Its sentences are in `language`, by default the one negotiated from the current request's Accept-Language; the
    answer says which in Content-Language, and Vary tells caches that the language depends on that header.
    """
    language = language or messages.current_language()
    spec = api_error(exc)
    details: list[ErrorDetail] | None = None
    if isinstance(exc, ValidationFailed):
        details = [_detail(problem, language) for problem in exc.problems]
    elif isinstance(exc, InvalidStoredValue):
        details = [ErrorDetail(field="body", message=messages.detail_sentence("not_storable", {}, language))]
    body = ErrorResponse(error=_message(exc, spec, language), code=spec.code, details=details, request_id=request_id)
    headers = {**_error_headers(exc, spec), "Content-Language": language, "Vary": "Accept-Language"}
    return Outcome(spec.status, jsonio.dumps(body.model_dump(exclude_none=True)), headers, code=spec.code)
