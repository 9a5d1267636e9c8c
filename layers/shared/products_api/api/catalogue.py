"""The error catalogue: every error the API answers, with its status, code, message, metric and meaning, in one table.

`responses.error_outcome` answers from it, `observability` counts each answer under its `metric`, and the OpenAPI
generator (products_api_local.openapi) documents each `code` with its `meaning`. An exception is found by its class
or the nearest base class listed; anything else is `INTERNAL`, a 500 with nothing internal in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from products_api.api.requests import MAX_BODY_BYTES
from products_api.errors import (
    ConcurrentUpdate,
    DomainError,
    DuplicateModel,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InsufficientScope,
    InvalidCursor,
    InvalidIdempotencyKey,
    InvalidImage,
    InvalidJson,
    InvalidProductId,
    InvalidStoredValue,
    PayloadTooLarge,
    PreconditionFailed,
    ProductNotFound,
    QuotaExceeded,
    RateLimited,
    StoreUnavailable,
    TooManyImages,
    Unauthorized,
    UnsupportedMediaType,
    UploadNotFound,
    ValidationFailed,
)

# --- the outcome metrics of errors (one per answer, value 1; see observability for the successes') ---------------

VALIDATION_FAILED = "ValidationFailed"  # the request itself is malformed: 400 (any code), 413, 415
UNAUTHORIZED = "Unauthorized"  # 401: no valid credential
FORBIDDEN = "Forbidden"  # 403: a valid credential without the scope (a client's configuration, not an attack)
NOT_FOUND = "NotFound"  # 404
MODEL_CONFLICT = "ModelConflict"  # 409 duplicate_model
IDEMPOTENCY_CONFLICT = "IdempotencyConflict"  # 409 idempotency_in_progress, 422 idempotency_key_reused
PRECONDITION_FAILED = "PreconditionFailed"  # 412
CONCURRENT_UPDATE = "ConcurrentUpdate"  # 409 concurrent_update: contention outlived the retries; nothing written
UNAVAILABLE = "Unavailable"  # 503: DynamoDB unavailable (throttled, unreachable); nothing written
INTERNAL_ERROR = "InternalError"  # 500: a bug
TOO_MANY_IMAGES = "TooManyImages"  # 409 too_many_images
RATE_LIMITED = "RateLimited"  # 429 rate_limited: the company's write rate
QUOTA_EXCEEDED = "QuotaExceeded"  # 429 quota_exceeded: the company's monthly quota


@dataclass(frozen=True)
class ApiError:
    status: int
    # stable, for programs: what clients branch on, and what logs report
    code: str
    # the outcome metric the answer counts under
    metric: str
    # what the code tells a client, as the API reference says it (a sentence ending in a full stop)
    meaning: str
    # the `error` text of the body; None: the exception's own sentence
    message: str | None = None


_VALIDATION_ERROR = ApiError(
    400,
    "validation_error",
    VALIDATION_FAILED,
    "a field breaks a rule of the request body schema, or a key is unknown or read-only. `details` lists every "
    "problem at once, one entry per field.",
    "Validation failed",
)
_NOT_FOUND_MEANING = (
    "no product (or, on the upload status route, no upload of that product) with this id belongs to the caller's "
    "company (another company's is not found either)."
)
_UNAVAILABLE_MEANING = (
    "the database stayed unavailable (throttled or unreachable) after retries; never for contention between "
    "clients (that is `concurrent_update`); nothing was written: retry after `Retry-After` seconds (with the "
    "same `Idempotency-Key`)."
)

# The contract's error table, in one place.
ERRORS: Mapping[type[DomainError], ApiError] = MappingProxyType(
    {
        InvalidProductId: ApiError(
            400, "invalid_id", VALIDATION_FAILED, "the path `id` is not a 24-character hexadecimal ObjectId."
        ),
        InvalidJson: ApiError(
            400,
            "invalid_json",
            VALIDATION_FAILED,
            "the body is not one JSON object in UTF-8, or it repeats a member name, or a number in it is `NaN` or "
            "`Infinity`.",
        ),
        ValidationFailed: _VALIDATION_ERROR,
        # a value pydantic accepted and DynamoDB refused: the client's body all the same
        InvalidStoredValue: _VALIDATION_ERROR,
        InvalidIdempotencyKey: ApiError(
            400,
            "invalid_idempotency_key",
            VALIDATION_FAILED,
            "the `Idempotency-Key` header is not a UUID version 4.",
        ),
        InvalidCursor: ApiError(
            400,
            "invalid_cursor",
            VALIDATION_FAILED,
            "`cursor` is not a `nextCursor` this API handed out for this product (garbled, edited, or another "
            "product's).",
        ),
        Unauthorized: ApiError(
            401, "unauthorized", UNAUTHORIZED, "the credential is missing, malformed, unknown, revoked or expired."
        ),
        InsufficientScope: ApiError(
            403, "insufficient_scope", FORBIDDEN, "the credential is valid but lacks the scope the operation needs."
        ),
        ProductNotFound: ApiError(
            404,
            "not_found",
            NOT_FOUND,
            _NOT_FOUND_MEANING,
            "Product not found",
        ),
        DuplicateModel: ApiError(
            409,
            "duplicate_model",
            MODEL_CONFLICT,
            "another product of the caller's company (active or archived) already has this `model`.",
            "A product with this model already exists for your company",
        ),
        IdempotencyInProgress: ApiError(
            409,
            "idempotency_in_progress",
            IDEMPOTENCY_CONFLICT,
            "a request with the same `Idempotency-Key` is still being processed: retry after `Retry-After` seconds.",
            "A request with this Idempotency-Key is still being processed",
        ),
        PreconditionFailed: ApiError(
            412,
            "precondition_failed",
            PRECONDITION_FAILED,
            "`If-Match` does not name the product's current version, or it is not `*` or a list of entity tags.",
        ),
        PayloadTooLarge: ApiError(
            413,
            "payload_too_large",
            VALIDATION_FAILED,
            f"the body is larger than {MAX_BODY_BYTES // 1024} KiB.",
        ),
        UnsupportedMediaType: ApiError(
            415,
            "unsupported_media_type",
            VALIDATION_FAILED,
            "the body is not sent as `application/json` (UTF-8).",
        ),
        IdempotencyKeyReused: ApiError(
            422,
            "idempotency_key_reused",
            IDEMPOTENCY_CONFLICT,
            "the `Idempotency-Key` was used before with a different body, product or method.",
            "This Idempotency-Key was used with a different request (body, product or method)",
        ),
        RateLimited: ApiError(
            429,
            "rate_limited",
            RATE_LIMITED,
            "the company's writes in the current minute reached its write rate; nothing was written: retry after "
            "`Retry-After` seconds (the `RateLimit` field says the same as `t`).",
            "Too many writes for your company: retry after Retry-After seconds",
        ),
        QuotaExceeded: ApiError(
            429,
            "quota_exceeded",
            QUOTA_EXCEEDED,
            "the company's writes this month (UTC) reached its plan's monthly quota; nothing was written. "
            "`Retry-After` names the start of the next month.",
            "Your company's writes this month reached its plan's quota",
        ),
        StoreUnavailable: ApiError(
            503,
            "unavailable",
            UNAVAILABLE,
            _UNAVAILABLE_MEANING,
            "The service is temporarily unavailable; nothing was written",
        ),
        ConcurrentUpdate: ApiError(
            409,
            "concurrent_update",
            CONCURRENT_UPDATE,
            "other requests kept changing this product (or a transaction held it) while this one retried, within its "
            "time; nothing was written and the answer is never kept for replay: retry after `Retry-After` seconds "
            "(with the same `Idempotency-Key`).",
            "Other requests kept changing this product while this one retried; nothing was written, retry shortly",
        ),
        # the image routes
        InvalidImage: ApiError(
            400,
            "invalid_image",
            VALIDATION_FAILED,
            "the file is not a JPEG, PNG or WebP (judged by its content, not its name or declared type), declares "
            "absurd dimensions (a decompression bomb), or is damaged or truncated; `error` says which.",
        ),
        TooManyImages: ApiError(
            409,
            "too_many_images",
            TOO_MANY_IMAGES,
            "the product already has 20 images, the most allowed; nothing was appended.",
        ),
        UploadNotFound: ApiError(404, "not_found", NOT_FOUND, _NOT_FOUND_MEANING, "Upload not found"),
    }
)
INTERNAL = ApiError(
    500,
    "internal_error",
    INTERNAL_ERROR,
    "an unexpected error; the answer carries no stack trace or internal names.",
    "Internal server error",
)


def api_error(exc: BaseException) -> ApiError:
    """The catalogue's entry for `exc`: its class's, or its nearest listed base class's; otherwise INTERNAL."""
    for error_type in type(exc).__mro__:
        entry = ERRORS.get(error_type)
        if entry is not None:
            return entry
    return INTERNAL


def every_error() -> tuple[ApiError, ...]:
    """Each distinct answer of the catalogue once, INTERNAL last."""
    return (*dict.fromkeys(ERRORS.values()), INTERNAL)


def error_codes() -> frozenset[str]:
    """Every code an error response can carry."""
    return frozenset(entry.code for entry in every_error())


# Built once from the table: the metric each code counts under (one per code: a test holds the table to it).
METRIC_BY_CODE: Mapping[str, str] = MappingProxyType({entry.code: entry.metric for entry in every_error()})
