"""Domain exceptions. They know nothing of HTTP: `http.py` maps them to responses in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from types import MappingProxyType
from typing import Any

_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


class DomainError(Exception):
    """Base of every error the API answers with a contract status.

    The text is the English sentence (logs read it). `reason`, when given, names the sentence in the translated
    messages (products_api.api.messages), filled in with `params`; without one, a client asking for another language
    gets the code's general sentence in it.
    """

    reason: str | None = None
    params: Mapping[str, Any] = _NO_PARAMS

    def __init__(self, *args: object, reason: str | None = None, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(*args)
        if reason is not None:
            self.reason = reason
        if params is not None:
            self.params = params


# --- request errors (found before any work is done) --------------------------------------------


class InvalidProductId(DomainError):
    pass


class InvalidJson(DomainError):
    pass


@dataclass(frozen=True)
class MessagePart:
    """One problem of a field, by its reason in the translated messages; `item` the list position it is about."""

    reason: str
    params: Mapping[str, Any] = dataclass_field(default_factory=dict)
    item: int | None = None


@dataclass(frozen=True)
class FieldProblem:
    field: str
    # in English (logs read it)
    message: str
    # the problem for the translated messages: one reason, or several parts (joined with "; ")
    reason: str | None = None
    params: Mapping[str, Any] = dataclass_field(default_factory=dict)
    parts: tuple[MessagePart, ...] = ()

    def message_parts(self) -> tuple[MessagePart, ...]:
        if self.parts:
            return self.parts
        return (MessagePart(self.reason, self.params),) if self.reason is not None else ()


class ValidationFailed(DomainError):
    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class InvalidIdempotencyKey(DomainError):
    pass


class PayloadTooLarge(DomainError):
    pass


class UnsupportedMediaType(DomainError):
    pass


class InvalidCursor(DomainError):
    """A page cursor the API did not hand out for this product (garbled, altered or another product's)."""


# --- authentication --------------------------------------------------------------------------


class Unauthorized(DomainError):
    """No valid credential. `token_presented` tells RFC 6750's invalid_token case from a missing one."""

    def __init__(
        self, message: str, *, token_presented: bool, reason: str | None = None, params: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message, reason=reason, params=params)
        self.token_presented = token_presented


class InsufficientScope(DomainError):
    def __init__(self, scope: str) -> None:
        super().__init__(
            f"this credential lacks the {scope} scope", reason="insufficient_scope", params={"scope": scope}
        )
        self.scope = scope


# --- outcomes of the update ------------------------------------------------------------------


class ProductNotFound(DomainError):
    pass


class DuplicateModel(DomainError):
    pass


class PreconditionFailed(DomainError):
    """If-Match does not name the current version (`current_etag`, when known, lets the client catch up)."""

    def __init__(
        self,
        message: str,
        current_etag: str | None = None,
        *,
        reason: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, params=params)
        self.current_etag = current_etag


class ConcurrentUpdate(DomainError):
    """Contention: the product changed between our read and our write, or DynamoDB refused the write because a
    transaction held the item. Retried with backoff; once the function's time runs out, 409 concurrent_update.
    """


class StoreUnavailable(DomainError):
    """DynamoDB stayed unavailable (throttled, failing or unreachable) after the client's retries."""


class StoreFailure(Exception):  # deliberately not a DomainError: it answers 500
    """DynamoDB answered with an error the code has no meaning for (access denied, missing table, ...): a bug or a
    misconfiguration, never the client's fault, never kept for replay.
    """


class InvalidStoredValue(DomainError):
    """DynamoDB refused a value that passed validation (a gap in validation, never the client's retry)."""


# --- idempotency -----------------------------------------------------------------------------


class IdempotencyInProgress(DomainError):
    pass


class IdempotencyKeyReused(DomainError):
    pass


# --- images (POST .../images, .../images/uploads) ----------------------------------------------


class InvalidImage(DomainError):
    """The file is not a JPEG, PNG or WebP, declares absurd dimensions, or is damaged: the message says which."""


class TooManyImages(DomainError):
    """The product already holds the most images allowed: nothing was appended."""


class UploadNotFound(DomainError):
    """No upload with this id for this product of the caller's company."""


# --- rate limits and metering ------------------------------------------------------------------


class RateLimited(DomainError):
    """The company's writes in the current window reached its rate: nothing was written."""

    def __init__(self, retry_after_seconds: int, headers: dict[str, str]) -> None:
        super().__init__("the company's write rate is exceeded")
        self.retry_after_seconds = retry_after_seconds
        # the RateLimit fields of the refusal
        self.headers = headers


class QuotaExceeded(DomainError):
    """The company's metered writes this month reached its plan's quota: nothing was written."""

    def __init__(self, retry_after_seconds: int, headers: dict[str, str]) -> None:
        super().__init__("the company's writes this month reached its plan's quota")
        self.retry_after_seconds = retry_after_seconds
        self.headers = headers
