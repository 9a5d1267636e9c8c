"""The OpenAPI 3.1 document of the products API (`docs/openapi.json`), generated from the code.

    python -m products_api_local.openapi            # print the document
    python -m products_api_local.openapi --write    # write docs/openapi.json
    python -m products_api_local.openapi --check    # exit 1, with a diff, when docs/openapi.json is stale

Nothing the code already knows is written twice here:

- the schemas are the pydantic models' own JSON schemas (`ProductPatch` in validation mode, `ProductResponse`,
  `HistoryResponse` and `ErrorResponse` in serialization mode, by alias), gathered with `models_json_schema` into
  `components/schemas`;
- the error responses come from running `products_api.api.api_responses.error_outcome` on one instance of every
  exception of the error catalogue (`products_api.api.catalogue.ERRORS`) that the operation can raise, and on an
  unexpected exception (500): statuses, `code` values and headers are what the code sends, and a header is marked
  required when every instance of its status sends it; what each `code` means is the catalogue's `meaning`;
- the responses that carry `Idempotent-Replayed` are those of the outcomes the service keeps (`KEPT_ERRORS`);
- the paths and methods are checked against both the HttpApi events of `template.yaml` and the handlers' Powertools
  routes, and the finished document is parsed with Powertools' OpenAPI models.

What is written here is prose: where the history route's codes mean something else than the catalogue says, and the
header descriptions.

The request body is described, not validated, by this document: the handler parses the JSON itself (exact decimals,
duplicate member names) and validates it with `ProductPatch`.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import importlib.metadata
import itertools
import json
import re
import string
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import OpenAPI
from products_api import errors as api_errors
from products_api.api import catalogue, cursor, requests
from products_api.api import responses as api_responses
from products_api.api.responses import ErrorResponse
from products_api.core.settings import Settings
from products_api.errors import (
    DomainError,
    FieldProblem,
    InsufficientScope,
    InvalidCursor,
    InvalidIdempotencyKey,
    InvalidJson,
    InvalidProductId,
    PayloadTooLarge,
    PreconditionFailed,
    ProductNotFound,
    StoreUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from products_api.history.reader import HistoryResponse
from products_api.history.store import FieldChange, HistoryEntry, HistoryPage
from products_api.images import service as image_service
from products_api.images.multipart import IMAGE_PART, MAX_IMAGE_BYTES
from products_api.images.requests import UploadResponse
from products_api.limits.limiter import RateLimitState
from products_api.limits.store import WINDOW_SECONDS
from products_api.limits.usage import UsageResponse
from products_api.products import service
from products_api.products.fields import READ_ONLY_FIELDS
from products_api.products.models import Product, ProductPatch
from products_api.products.preconditions import stale_version_message
from products_api.products.reader import ProductListResponse
from products_api.products.responses import ProductResponse
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from products_api_local import openapi_reading
from products_api_local.template.document import project_root
from products_api_local.template.model import LocalTemplate

OPENAPI_VERSION = "3.1.0"
TITLE = "Products API"
DISTRIBUTION = "products-api"
DOCUMENT_FILE = Path("docs") / "openapi.json"
WRITE_COMMAND = ".venv/bin/python -m products_api_local.openapi --write"

PATH = "/api/v1/products/{id}"
METHOD = "patch"
OPERATION_ID = "updateProduct"
HISTORY_PATH = "/api/v1/products/{id}/history"
HISTORY_METHOD = "get"
HISTORY_OPERATION_ID = "getProductHistory"
SECURITY_SCHEME = "bearer"
SCHEMA_REF = "#/components/schemas/{model}"

# The handlers' folders and modules, as Lambda imports them (template.yaml: CodeUri and Handler).
HANDLER_FOLDER = Path("functions") / "update_product"
HANDLER_MODULE = "update_product"
HISTORY_HANDLER_FOLDER = Path("functions") / "get_product_history"
HISTORY_HANDLER_MODULE = "get_product_history"
USAGE_PATH = "/api/v1/usage"
USAGE_HANDLER_FOLDER = Path("functions") / "get_usage"
USAGE_HANDLER_MODULE = "get_usage"
USAGE_ERRORS: tuple[type[DomainError], ...] = (ValidationFailed, Unauthorized, InsufficientScope, StoreUnavailable)
# Refused before the limiter runs: these answers carry no RateLimit fields.
_BEFORE_THE_LIMITER = frozenset({400, 401, 403, 413, 415})
_EXAMPLE_RATE = RateLimitState(limit=100, remaining=0, reset_seconds=27)

# What the history route can answer besides 200 and 500; the update answers every other entry of the error table.
HISTORY_ERRORS: tuple[type[DomainError], ...] = (
    InvalidProductId,
    ValidationFailed,
    InvalidCursor,
    Unauthorized,
    InsufficientScope,
    ProductNotFound,
    StoreUnavailable,
)
_HISTORY_ONLY_ERRORS: frozenset[type[DomainError]] = frozenset({InvalidCursor})

# --- the image routes (issue 15) ---
IMAGES_PATH = "/api/v1/products/{id}/images"
UPLOADS_PATH = "/api/v1/products/{id}/images/uploads"
UPLOAD_PATH = "/api/v1/products/{id}/images/uploads/{uploadId}"
IMAGES_HANDLER_FOLDER = Path("functions") / "upload_product_image"
IMAGES_HANDLER_MODULE = "upload_product_image"
_IMAGE_ONLY_ERRORS: frozenset[type[DomainError]] = frozenset(
    {api_errors.InvalidImage, api_errors.TooManyImages, api_errors.UploadNotFound}
)
DIRECT_UPLOAD_ERRORS: tuple[type[DomainError], ...] = (
    InvalidProductId,
    ValidationFailed,
    api_errors.InvalidImage,
    api_errors.InvalidIdempotencyKey,
    Unauthorized,
    InsufficientScope,
    ProductNotFound,
    api_errors.TooManyImages,
    api_errors.IdempotencyInProgress,
    api_errors.PreconditionFailed,
    api_errors.PayloadTooLarge,
    api_errors.UnsupportedMediaType,
    api_errors.IdempotencyKeyReused,
    api_errors.RateLimited,
    api_errors.QuotaExceeded,
    StoreUnavailable,
)
CREATE_UPLOAD_ERRORS: tuple[type[DomainError], ...] = (
    InvalidProductId,
    api_errors.InvalidJson,
    ValidationFailed,
    Unauthorized,
    InsufficientScope,
    ProductNotFound,
    api_errors.TooManyImages,
    api_errors.RateLimited,
    api_errors.QuotaExceeded,
    StoreUnavailable,
)
UPLOAD_STATUS_ERRORS: tuple[type[DomainError], ...] = (
    InvalidProductId,
    Unauthorized,
    InsufficientScope,
    api_errors.UploadNotFound,
    StoreUnavailable,
)

SERVERS: list[dict[str, Any]] = [
    {"url": "http://127.0.0.1:3000", "description": "local runner (make serve)"},
    {
        "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
        "description": "deployed stack: the stack output ApiUrl ($default stage)",
        "variables": {
            "apiId": {"default": "abcde12345", "description": "id of the stack's HttpApi (ProductsHttpApi)"},
            "region": {"default": "eu-west-1", "description": "AWS region of the stack"},
        },
    },
]

# The tags that group the operations, each with what a reader finds under it.
TAGS: list[dict[str, str]] = [
    {
        "name": "products",
        "description": "A company's products: change some of a product's fields (PATCH) and read the history of "
        "those changes (GET). Every operation needs a Bearer credential of the company that owns the product.",
    },
    {
        "name": "usage",
        "description": "The caller's company's metered writes, monthly quota and write rate. Writes over the rate "
        "answer 429 `rate_limited`, over the quota 429 `quota_exceeded`: wait `Retry-After` seconds.",
    },
]
# The project's licence (the LICENSE file at the root of the repository), by its SPDX identifier.
LICENSE = {"name": "MIT", "identifier": "MIT"}

# RFC 9110's reason phrases, written out so the document does not depend on the Python version's HTTPStatus.
_REASONS = {
    200: "OK",
    201: "Created",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

# What each `code` tells a client: the error catalogue's meaning of it.
_CATALOGUE_MEANINGS = {entry.code: entry.meaning for entry in catalogue.every_error()}


# Where the history route's codes mean something else than the update's (it reads a query, and writes nothing).
_HISTORY_CODE_MEANINGS = {
    "validation_error": (
        f"a query parameter is unknown, or `limit` is not a whole number from 1 to {requests.HISTORY_LIMIT_MAX}. "
        "`details` lists every problem at once, one entry per parameter."
    ),
    "unavailable": "the database stayed unavailable after retries: retry after `Retry-After` seconds.",
}


@dataclass(frozen=True)
class _Reserved:
    status: int
    code: str
    meaning: str
    # (name, example value) of the headers it will always send
    headers: tuple[tuple[str, str], ...] = ()


# In the contract, not sent by the code yet. Documented so clients handle them from day one; an entry the code
# already sends is an error (the test suite says so), so it cannot stay marked "not sent yet" by mistake.
RESERVED: tuple[_Reserved, ...] = ()

# Header descriptions, by header and status. A header the code sends without a description here stops the generation.
_HEADER_DOCS: dict[tuple[str, int], str] = {
    ("ETag", 200): (
        'The product\'s version as a strong entity tag, such as `"4"`: send it in `If-Match` to update only that '
        "version."
    ),
    ("ETag", 412): (
        "The product's current version as a strong entity tag, when the product exists and `If-Match` was "
        "well-formed: read the product again, or send this tag to overwrite it."
    ),
    ("WWW-Authenticate", 401): (
        'The Bearer challenge (RFC 6750); with `error="invalid_token"` when a token was sent but refused.'
    ),
    ("WWW-Authenticate", 403): 'The Bearer challenge with `error="insufficient_scope"` and the `scope` needed.',
    ("Cache-Control", 200): "`no-store`: the history is the caller's own and grows with every write; never cache it.",
    ("Retry-After", 409): (
        "Seconds to wait before retrying; sent with `idempotency_in_progress` and `concurrent_update` (never with "
        "`duplicate_model`, which a retry does not change)."
    ),
    ("Retry-After", 429): "Seconds to wait before retrying: the end of the rate window (`rate_limited`), the "
    "start of the next month, UTC (`quota_exceeded`).",
    ("Retry-After", 503): "Seconds to wait before retrying.",
    # every error answers in the language the client's Accept-Language prefers (api/messages.py)
    **{
        ("Content-Language", status): "The language of `error` and `details[].message`: `en`, `it` or `de`, the "
        "best match of the request's `Accept-Language` (English by default). `code` is the same in every language."
        for status in _REASONS
        if status >= 400
    },
    **{
        ("Vary", status): "`Accept-Language`: the sentences of this answer depend on that request header."
        for status in _REASONS
        if status >= 400
    },
}
_RATE_LIMIT_DOCS = {
    "RateLimit-Policy": (
        "The company's write rate (draft-ietf-httpapi-ratelimit-headers): `q` writes per `w` seconds, in fixed "
        "windows aligned on the minute. Absent when the rate is not limited (or the limiter could not be reached)."
    ),
    "RateLimit": (
        "What is left of the rate (draft-ietf-httpapi-ratelimit-headers): `r` more writes in this window, which "
        "ends in `t` seconds. Sent on every answer of a write that reached the limiter, whatever its status."
    ),
}
for _status in (200, 201, 404, 409, 412, 422, 429, 500, 503):
    for _name, _text in _RATE_LIMIT_DOCS.items():
        _HEADER_DOCS[(_name, _status)] = _text
_HEADER_SCHEMAS: dict[str, dict[str, Any]] = {
    "ETag": {"type": "string", "pattern": '^"[0-9]+"$'},
    "Retry-After": {"type": "integer", "minimum": 0},
}

# The product of the API reference's example (docs/api.md): the 200 example of the document.
_EXAMPLE_PRODUCT = Product(
    id="6650a1b2c3d4e5f6a7b8c9d0",
    company_id="example-company",
    name="Li-Ion 48V Battery Pack (revised)",
    model="LI-48V-20AH",
    description=None,
    default_field_values={"chemistry": "NMC", "capacityWh": 960},
    image_urls=["https://cdn.example.com/new-hero.jpg"],
    status="active",
    source_locale="en",
    version=4,
    created_at=datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
    updated_at=datetime(2026, 5, 9, 15, 30, tzinfo=UTC),
)
# Two records of that product's history, with a cursor to the older ones: the history route's 200 example.
_EXAMPLE_HISTORY = HistoryPage(
    entries=(
        HistoryEntry(
            company_id=_EXAMPLE_PRODUCT.company_id,
            product_id=_EXAMPLE_PRODUCT.id,
            version=4,
            changed_at=datetime(2026, 5, 9, 15, 30, tzinfo=UTC),
            changed_by="cred_3f9a1c2b7d4e5f60",
            changes=(
                FieldChange(field="name", before="Li-Ion 48V Battery Pack", after="Li-Ion 48V Battery Pack (revised)"),
                FieldChange(field="description", before="Original description", after=None),
            ),
        ),
        HistoryEntry(
            company_id=_EXAMPLE_PRODUCT.company_id,
            product_id=_EXAMPLE_PRODUCT.id,
            version=3,
            changed_at=datetime(2026, 5, 8, 10, 0, tzinfo=UTC),
            changed_by="cred_3f9a1c2b7d4e5f60",
            changes=(
                FieldChange(
                    field="defaultFieldValues",
                    before={"chemistry": "NMC", "capacityWh": 900},
                    after={"chemistry": "NMC", "capacityWh": 960},
                ),
            ),
        ),
    ),
    next_before_version=3,
)
_EXAMPLE_PATCH = {
    "name": "Li-Ion 48V Battery Pack (revised)",
    "description": None,
    "imageUrls": ["https://cdn.example.com/new-hero.jpg"],
}
_EXAMPLE_REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e812345678"
_EXAMPLE_PROBLEMS = [FieldProblem(field="imageUrls", message="at most 20 items")]

# `products_api.api.requests` matches Idempotency-Key case-insensitively after trimming; JSON Schema patterns have
# no flags.
IDEMPOTENCY_KEY_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"


class OpenApiError(RuntimeError):
    """The document cannot be generated: the code, the template and this module disagree."""


# --- routes ------------------------------------------------------------------------------------------------------


def _function_module(folder_path: Path, name: str) -> ModuleType:
    folder = str(project_root() / folder_path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(name)


def handler_module() -> ModuleType:
    """The update function's module, imported from its folder as Lambda does."""
    return _function_module(HANDLER_FOLDER, HANDLER_MODULE)


def usage_handler_module() -> ModuleType:
    """The usage function's module, imported from its folder as Lambda does."""
    return _function_module(USAGE_HANDLER_FOLDER, USAGE_HANDLER_MODULE)


def history_handler_module() -> ModuleType:
    """The history function's module, imported from its folder as Lambda does."""
    return _function_module(HISTORY_HANDLER_FOLDER, HISTORY_HANDLER_MODULE)


def images_handler_module() -> ModuleType:
    """The image routes' function module, imported from its folder as Lambda does."""
    return _function_module(IMAGES_HANDLER_FOLDER, IMAGES_HANDLER_MODULE)


def handler_routes() -> list[tuple[str, str]]:
    """(path, lower-case method) of the handlers' routes, path parameters as `{name}`, sorted."""
    routes: list[tuple[str, str]] = []
    for module in (
        handler_module(),
        history_handler_module(),
        images_handler_module(),
        openapi_reading.read_handler_module(),
        usage_handler_module(),
    ):
        routes += module.routes.declared()
    return sorted(routes)


def route_shape(path: str) -> str:
    """A path with its parameter names dropped: `/a/{id}` and `/a/{product_id}` are the same route."""
    return re.sub(r"\{[^}/]*\}", "{}", path)


def check_routes(document_routes: Sequence[tuple[str, str]]) -> None:
    """The document's routes are the template's (names included) and the handler's (parameter names aside)."""
    template = LocalTemplate.load().route_methods()
    if sorted(document_routes) != template:
        raise OpenApiError(
            f"the document describes {sorted(document_routes)} but template.yaml's HttpApi events are {template}: "
            "describe the new routes in products_api_local.openapi"
        )
    handler = sorted((route_shape(path), method) for path, method in handler_routes())
    shapes = sorted((route_shape(path), method) for path, method in template)
    if handler != shapes:
        raise OpenApiError(f"the handler routes {handler} but template.yaml's HttpApi events are {shapes}")


# --- schemas -----------------------------------------------------------------------------------------------------


def component_schemas() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The `$ref` of each model, and `components/schemas`, from the models' own JSON schemas."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (ProductPatch, "validation"),
        (ProductResponse, "serialization"),
        (HistoryResponse, "serialization"),
        (UploadResponse, "serialization"),
        (ProductListResponse, "serialization"),
        (UsageResponse, "serialization"),
        (ErrorResponse, "serialization"),
    ]
    refs, definitions = models_json_schema(models, by_alias=True, ref_template=SCHEMA_REF)
    schemas: dict[str, Any] = definitions.get("$defs", {})
    patch_ref = refs[(ProductPatch, "validation")]["$ref"]
    _describe_patch_semantics(schemas[patch_ref.rsplit("/", 1)[1]])
    return {model.__name__: refs[(model, mode)] for model, mode in models}, schemas


def _accepts_null(alias: str) -> bool:
    try:
        ProductPatch.model_validate({alias: None})
    except ValidationError:
        return False
    return True


def language_code_pattern() -> str:
    """A pattern matching exactly the two-letter codes `ProductPatch` accepts as `sourceLocale`, in any case.

    `^[A-Za-z]{2}$` would call `xx` valid, which the API refuses (unknown codes are refused). JSON Schema
    patterns have no case-insensitive flag, so each letter is spelt in both cases: `[Ee][Nn]`, grouped by first letter.
    """
    letters = string.ascii_lowercase
    accepted: dict[str, list[str]] = {}
    for first, second in itertools.product(letters, letters):
        try:
            ProductPatch.model_validate({"sourceLocale": first + second})
        except ValidationError:
            continue
        accepted.setdefault(first, []).append(second)
    if not accepted:
        raise OpenApiError("ProductPatch accepts no two-letter sourceLocale: is the language list missing?")
    groups = (
        f"[{first.upper()}{first}][{''.join(c.upper() + c for c in seconds)}]" for first, seconds in accepted.items()
    )
    return f"^(?:{'|'.join(groups)})$"


def _describe_patch_semantics(schema: dict[str, Any]) -> None:
    """What pydantic cannot know about a PATCH body, made true to the model's behaviour.

    Every field of `ProductPatch` is typed `X | None = None` so that an omitted key can be told from a sent one; the
    generated schema therefore says `null` is accepted and is the default. Neither holds: an omitted key leaves the
    stored value alone (no default), and `null` is refused except where the model accepts it (`description`, which
    it clears). Both are decided by asking the model, so the document follows the code; so is the list of language
    codes `sourceLocale` accepts.
    """
    schema["properties"]["sourceLocale"]["pattern"] = language_code_pattern()
    for alias, prop in schema.get("properties", {}).items():
        prop.pop("default", None)
        branches = prop.get("anyOf")
        if branches is None or _accepts_null(alias):
            continue
        kept = [branch for branch in branches if branch != {"type": "null"}]
        del prop["anyOf"]
        if len(kept) == 1:
            merged = {**kept[0], **prop}
            prop.clear()
            prop.update(sorted(merged.items()))
        else:
            prop["anyOf"] = kept


# --- errors ------------------------------------------------------------------------------------------------------


@dataclass
class _StatusErrors:
    status: int
    codes: list[str] = field(default_factory=list)
    # header -> (how many sample errors sent it, one value it had)
    headers: dict[str, tuple[int, str]] = field(default_factory=dict)
    samples: int = 0


def _sample_errors(scope: str, error_types: Sequence[type[DomainError]]) -> list[Exception]:
    """One or more instances of every exception of the error table the operation raises (`error_types`), then an
    unexpected one (the 500).
    """
    special: dict[type[DomainError], list[Exception]] = {
        ValidationFailed: [ValidationFailed(_EXAMPLE_PROBLEMS)],
        Unauthorized: [Unauthorized("sample", token_presented=False), Unauthorized("sample", token_presented=True)],
        InsufficientScope: [InsufficientScope(scope)],
        # with the current version when the product exists, without when If-Match itself is malformed
        PreconditionFailed: [PreconditionFailed("sample", current_etag='"4"'), PreconditionFailed("sample")],
        api_errors.RateLimited: [api_errors.RateLimited(_EXAMPLE_RATE.reset_seconds, _EXAMPLE_RATE.headers())],
        # a company with an unlimited rate gets no RateLimit fields with it
        api_errors.QuotaExceeded: [
            api_errors.QuotaExceeded(2_419_200, RateLimitState(100, 63, 27).headers()),
            api_errors.QuotaExceeded(2_419_200, {}),
        ],
    }
    samples: list[Exception] = []
    for error_type in catalogue.ERRORS:
        if error_type not in error_types:
            continue
        if error_type in special:
            samples.extend(special[error_type])
            continue
        try:
            samples.append(error_type("sample"))
        except Exception as exc:  # any failure means the same: teach `special` this exception
            raise OpenApiError(
                f"cannot build a sample {error_type.__name__} ({exc}): add it to _sample_errors' special cases"
            ) from exc
    samples.append(RuntimeError("sample"))
    return samples


def _error_table(scope: str, error_types: Sequence[type[DomainError]]) -> list[_StatusErrors]:
    """What `error_outcome` answers for every sample error, by status: codes in table order, headers sent."""
    by_status: dict[int, _StatusErrors] = {}
    for error in _sample_errors(scope, error_types):
        outcome = api_responses.error_outcome(error, _EXAMPLE_REQUEST_ID)
        code = json.loads(outcome.body)["code"]
        entry = by_status.setdefault(outcome.status_code, _StatusErrors(outcome.status_code))
        entry.samples += 1
        if code not in entry.codes:
            entry.codes.append(code)
        for name, value in outcome.headers.items():
            count, first_value = entry.headers.get(name, (0, value))
            entry.headers[name] = (count + 1, first_value)
    return [by_status[status] for status in sorted(by_status)]


def _kept_codes() -> set[str]:
    """The codes of the error outcomes the service keeps for replay."""
    return {catalogue.ERRORS[error_type].code for error_type in (*service.KEPT_ERRORS, *image_service.KEPT_ERRORS)}


def _kept_outcomes() -> str:
    """The answers kept for replay, as prose: `200, 404, 409 `duplicate_model` or 412`."""
    kept = _kept_codes()
    by_status: dict[int, list[str]] = {}
    for spec in catalogue.ERRORS.values():
        by_status.setdefault(spec.status, [])
        if spec.code not in by_status[spec.status]:
            by_status[spec.status].append(spec.code)
    items = ["200"]
    for status, codes in sorted(by_status.items()):
        kept_here = [code for code in codes if code in kept]
        if kept_here:
            items.append(str(status) if kept_here == codes else f"{status} {', '.join(f'`{c}`' for c in kept_here)}")
    return f"{', '.join(items[:-1])} or {items[-1]}"


def replay_header() -> tuple[str, str]:
    """The header (name, value) a replayed outcome adds."""
    plain = api_responses.Outcome(200, "{}").response_headers()
    replayed = api_responses.Outcome(200, "{}", replayed=True).response_headers()
    (added,) = (name for name in replayed if name not in plain)
    return added, replayed[added]


def _header(name: str, status: int, value: str, *, required: bool) -> dict[str, Any]:
    description = _HEADER_DOCS.get((name, status))
    if description is None:
        raise OpenApiError(f"the code sends {name} with {status}: describe it in _HEADER_DOCS")
    schema = dict(_HEADER_SCHEMAS.get(name, {"type": "string"}))
    example: str | int = int(value) if schema["type"] == "integer" else value
    return {"description": description, "required": required, "schema": schema, "example": example}


def _replayed_header(only: Sequence[str] = ()) -> dict[str, Any]:
    """`Idempotent-Replayed`; `only` names the codes of the status that can be replayed when not all can."""
    _, value = replay_header()
    which = f" (with `{'`, `'.join(only)}` only)" if only else ""
    return {
        "description": f"`{value}` when this is the kept answer to an earlier request with the same "
        f"`Idempotency-Key`{which}; absent otherwise.",
        "required": False,
        "schema": {"type": "string", "enum": [value]},
    }


def _describe_codes(
    status: int, codes: Sequence[str], kept: set[str], reserved: Mapping[str, str], meanings: Mapping[str, str]
) -> str:
    items = []
    for code in codes:
        meaning = reserved.get(code) or meanings.get(code) or _CATALOGUE_MEANINGS[code]
        note = " Kept for replay with the same `Idempotency-Key`." if code in kept else ""
        items.append(f"`{code}`: {meaning}{note}")
    if len(items) == 1:
        return f"{_REASONS[status]}. `code` is {items[0]}"
    listed = "\n".join(f"- {item}" for item in items)
    return f"{_REASONS[status]}. `code` is one of:\n\n{listed}"


def update_errors() -> tuple[type[DomainError], ...]:
    """What the update can answer besides 200 and 500: the whole error table but the history route's own entries."""
    return tuple(
        error_type
        for error_type in catalogue.ERRORS
        if error_type not in _HISTORY_ONLY_ERRORS and error_type not in _IMAGE_ONLY_ERRORS
    )


def error_responses(
    scope: str,
    error_ref: dict[str, Any],
    error_types: Sequence[type[DomainError]] | None = None,
    *,
    idempotent: bool = True,
    meanings: Mapping[str, str] | None = None,
    reserved_codes: Sequence[_Reserved] = RESERVED,
    validation_example: Sequence[FieldProblem] = _EXAMPLE_PROBLEMS,
) -> dict[str, dict[str, Any]]:
    """Every error status the operation answers (plus the reserved ones), by status code as a string.

    `error_types` are the exceptions of the error table the operation raises (default: the update's); `idempotent`
    operations mark the outcomes kept for replay; `meanings` overrides the catalogue's meanings for this operation.
    """
    table = _error_table(scope, error_types if error_types is not None else update_errors())
    sent = {code for entry in table for code in entry.codes}
    kept = _kept_codes() if idempotent else set()
    replay_name, _ = replay_header()

    reserved = [item for item in reserved_codes if item.code not in sent]
    statuses = {entry.status for entry in table}
    table.extend(_StatusErrors(status) for status in sorted({item.status for item in reserved} - statuses))
    table.sort(key=lambda entry: entry.status)

    examples_by_code = _sample_bodies(
        scope, error_types if error_types is not None else update_errors(), validation_example
    )
    responses: dict[str, dict[str, Any]] = {}
    for entry in table:
        reserved_here = [item for item in reserved if item.status == entry.status]
        codes = entry.codes + [item.code for item in reserved_here]
        description = _describe_codes(
            entry.status, codes, kept, {item.code: item.meaning for item in reserved_here}, meanings or {}
        )
        headers = {
            name: _header(name, entry.status, value, required=count == entry.samples)
            for name, (count, value) in entry.headers.items()
        }
        for item in reserved_here:
            for name, value in item.headers:
                headers.setdefault(name, _header(name, entry.status, value, required=True))
        kept_here = [code for code in codes if code in kept]
        if kept_here:
            headers[replay_name] = _replayed_header(kept_here if kept_here != codes else ())
        response: dict[str, Any] = {"description": description}
        if headers:
            response["headers"] = headers
        examples = _error_examples(codes, examples_by_code, reserved_here)
        response["content"] = {"application/json": {"schema": error_ref, "examples": examples}}
        responses[str(entry.status)] = response
    return responses


def _example_errors() -> list[Exception]:
    """Errors as the code raises them, with the sentences a client would read: the examples' `error` values (the
    error table's fixed sentences need none). `_sample_errors` fills in any code without one here.
    """
    return [
        InvalidProductId("product id must be a 24-character hexadecimal ObjectId"),
        InvalidJson('member name "name" appears more than once'),
        InvalidIdempotencyKey("Idempotency-Key must be a UUID version 4"),
        InvalidCursor("cursor belongs to another product's history"),
        Unauthorized("unknown credential", token_presented=True),
        PreconditionFailed(stale_version_message(_EXAMPLE_PRODUCT.version), _EXAMPLE_PRODUCT.etag),
        PayloadTooLarge(
            f"the body is {requests.MAX_BODY_BYTES + 1808} bytes; at most {requests.MAX_BODY_BYTES} are accepted"
        ),
        UnsupportedMediaType("Content-Type 'text/plain' is not supported: send application/json"),
        api_errors.InvalidImage("the file is not a JPEG, PNG or WebP image (judged by its content, not its name)"),
        api_errors.TooManyImages(
            "the product already has 20 images, the most allowed (20); remove one with PATCH imageUrls first"
        ),
        api_errors.UploadNotFound("no upload '0f1e2d3c4b5a69788796a5b4c3d2e1f0'"),
    ]


def _sample_bodies(
    scope: str, error_types: Sequence[type[DomainError]], validation_example: Sequence[FieldProblem]
) -> dict[str, dict[str, Any]]:
    """One body the code sends for each `code` the operation can answer: the first example or sample error of each
    code, with the operation's own `validation_example` for `validation_error`.
    """
    bodies: dict[str, dict[str, Any]] = {}
    samples: list[Exception] = [ValidationFailed(list(validation_example)), InsufficientScope(scope)]
    samples += [error for error in _example_errors() if type(error) in error_types]
    samples += _sample_errors(scope, error_types)
    for error in samples:
        body = json.loads(api_responses.error_outcome(error, _EXAMPLE_REQUEST_ID).body)
        bodies.setdefault(body["code"], body)
    return bodies


def _error_examples(
    codes: Sequence[str], bodies: Mapping[str, dict[str, Any]], reserved: Sequence[_Reserved]
) -> dict[str, dict[str, Any]]:
    """An example per `code` of one status, named by the code: what the code sends, or for a reserved code the
    body it will send (its meaning as the sentence).
    """
    examples: dict[str, dict[str, Any]] = {}
    for code in codes:
        body = bodies.get(code)
        if body is None:
            item = next((item for item in reserved if item.code == code), None)
            if item is None:
                raise OpenApiError(f"no sample error answers `{code}`: teach _sample_errors how to build one")
            sentence = item.meaning.split(". Reserved")[0].replace("`", "")
            body = {"error": sentence[:1].upper() + sentence[1:] + ".", "code": code, "requestId": _EXAMPLE_REQUEST_ID}
        examples[code] = {"summary": f"`{code}`", "value": body}
    return examples


# --- the document ------------------------------------------------------------------------------------------------


def _parameters() -> list[dict[str, Any]]:
    kept_hours = Settings.model_fields["idempotency_expiry_seconds"].default // 3600
    kept = _kept_outcomes()
    return [
        _id_parameter(),
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "A UUID version 4 (any case), such as `3f1c2a9e-8b7d-4c6e-9a1f-2b3c4d5e6f70`, that "
            "makes retries safe; anything else answers 400 `invalid_idempotency_key`. Scoped to the caller's company; "
            f"the outcome of the first request with a key ({kept}) is kept for {kept_hours} hours (by default) "
            "and answered again, with `Idempotent-Replayed: true` and nothing written, to a repeat with the "
            "same method, product and an equal JSON body (key order and whitespace aside). The same key with "
            "another body, product or method answers 422. Anything refused before the update runs, and 5xx, is "
            "not kept: fix the request or retry with the same key.",
            "schema": {"type": "string", "format": "uuid", "pattern": IDEMPOTENCY_KEY_PATTERN},
            "example": "3f1c7a52-2b0e-4d8a-9c61-5e7f0a9b8d24",
        },
        {
            "name": "If-Match",
            "in": "header",
            "required": False,
            "description": "Update only if the product is at one of these versions: `*`, or entity tags from an "
            'earlier `ETag` header, such as `"4"` (a comma-separated list is accepted; weak tags `W/"4"` never '
            "match). Otherwise 412 `precondition_failed`, with the current `ETag`. Without it, concurrent updates "
            "of different fields all apply.",
            "schema": {"type": "string"},
            "example": _EXAMPLE_PRODUCT.etag,
        },
    ]


def _request_body(patch_ref: dict[str, Any]) -> dict[str, Any]:
    try:
        ProductPatch.model_validate(_EXAMPLE_PATCH)
    except ValidationError as exc:  # pragma: no cover - the example is fixed
        raise OpenApiError(f"the request example is not a valid patch: {exc}") from exc
    read_only = ", ".join(f"`{name}`" for name in sorted(READ_ONLY_FIELDS))
    return {
        "required": True,
        "description": "The fields to change: every field is optional, and only the keys sent are changed. `{}` "
        "is valid: it changes nothing, writes nothing and answers 200 with the product as it is. One JSON object, "
        f"UTF-8 (`Content-Type: application/json`, optionally with `charset=utf-8`), at most "
        f"{requests.MAX_BODY_BYTES // 1024} KiB, without repeated member names. Unknown keys and the read-only "
        f"keys ({read_only}) are refused. A write is atomic: every field sent is stored, or none.",
        "content": {"application/json": {"schema": patch_ref, "example": _EXAMPLE_PATCH}},
    }


def _ok_response(product_ref: dict[str, Any]) -> dict[str, Any]:
    outcome = api_responses.product_outcome(_EXAMPLE_PRODUCT)
    replay_name, _ = replay_header()
    headers = {
        name: _header(name, outcome.status_code, value, required=True) for name, value in outcome.headers.items()
    }
    headers[replay_name] = _replayed_header()
    return {
        "description": "The product after the update. Each write adds 1 to `version` and sets `updatedAt`; "
        "timestamps are ISO 8601 UTC with milliseconds and `Z`.",
        "headers": headers,
        "content": {"application/json": {"schema": product_ref, "example": json.loads(outcome.body)}},
    }


def _id_parameter() -> dict[str, Any]:
    return {
        "name": "id",
        "in": "path",
        "required": True,
        "description": "The product's id: a MongoDB-style ObjectId (24 hexadecimal characters, any case; "
        "answered in lower case).",
        "schema": {"type": "string", "pattern": f"^{requests.OBJECT_ID.pattern}$"},
        "example": _EXAMPLE_PRODUCT.id,
    }


def _history_parameters() -> list[dict[str, Any]]:
    example_cursor = cursor.encode_cursor(_EXAMPLE_PRODUCT.id, 3)
    return [
        _id_parameter(),
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": f"How many records a page holds at most: a whole number from 1 to "
            f"{requests.HISTORY_LIMIT_MAX} (default {requests.HISTORY_LIMIT_DEFAULT}). Otherwise 400 "
            "`validation_error`.",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": requests.HISTORY_LIMIT_MAX,
                "default": requests.HISTORY_LIMIT_DEFAULT,
            },
            "example": 2,
        },
        {
            "name": "cursor",
            "in": "query",
            "required": False,
            "description": "Where the next page starts: the `nextCursor` of the previous page, sent back as it "
            "is. It is opaque, and only good for the product it came from; anything else answers 400 "
            "`invalid_cursor`. Without it, the page starts at the newest record.",
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": cursor.MAX_CURSOR_LENGTH,
                "pattern": f"^{cursor.BASE64URL.pattern}$",
            },
            "example": example_cursor,
        },
    ]


def _history_ok_response(history_ref: dict[str, Any]) -> dict[str, Any]:
    outcome = api_responses.history_outcome(_EXAMPLE_HISTORY, _EXAMPLE_PRODUCT.id)
    headers = {
        name: _header(name, outcome.status_code, value, required=True) for name, value in outcome.headers.items()
    }
    return {
        "description": "A page of the product's history, newest (highest version) first: one record per write, "
        "with the fields it changed, their values before and after (numbers exactly as stored), when and by which "
        "credential. `nextCursor` leads to the older records, and is null on the last page. A product with no "
        "recorded writes yet has an empty list.",
        "headers": headers,
        "content": {"application/json": {"schema": history_ref, "example": json.loads(outcome.body)}},
    }


def _with_rate_limit_fields(responses: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A write operation's responses, each answered after the limiter ran also documenting the RateLimit fields
    (optional: absent when the company's rate is unlimited). The 429s already list them from their samples.
    """
    documented: dict[str, dict[str, Any]] = {}
    for status, response in responses.items():
        if int(status) in _BEFORE_THE_LIMITER:
            documented[status] = response
            continue
        headers = dict(response.get("headers") or {})
        for name, value in _EXAMPLE_RATE.headers().items():
            headers.setdefault(name, _header(name, int(status), value, required=False))
        documented[status] = {**response, "headers": headers}
    return documented


def _usage_operation(read_scope: str, refs: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    example = UsageResponse.model_validate(
        {"month": "2026-05", "writes": 1234, "quota": 50000, "rate": {"limit": 100, "windowSeconds": WINDOW_SECONDS}}
    )
    return {
        "tags": ["usage"],
        "summary": "Read the company's write usage this month, its quota and its rate",
        "description": "Every applied write (a new `version` of a product, by PATCH or an image append) counts once "
        "toward the caller's company's month (UTC); idempotent replays, `{}` and refused requests do not. The count "
        "comes from the products table's stream, so the newest writes may take a moment to show (and the quota, "
        "checked against the same count, lags by as much). Takes no query parameter (400 `validation_error`).",
        "operationId": "getUsage",
        "security": [{SECURITY_SCHEME: [read_scope]}],
        "responses": {
            "200": {
                "description": "This month's writes, the monthly quota (`null`: none) and the write rate (`null`: "
                "not limited).",
                "headers": {
                    "Cache-Control": {
                        "description": "`no-store`: the count grows with every write.",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                },
                "content": {
                    "application/json": {"schema": refs["UsageResponse"], "example": json.loads(example.to_json())}
                },
            },
            **error_responses(
                read_scope,
                refs["ErrorResponse"],
                USAGE_ERRORS,
                idempotent=False,
                reserved_codes=(),
                meanings={"validation_error": "the route takes no query parameter; `details` names each one sent."},
                validation_example=[FieldProblem(field="month", message="unknown query parameter")],
            ),
        },
    }


def build_document() -> dict[str, Any]:
    """The whole document, deterministically: built in a fixed order from the code, template.yaml and this module."""
    check_routes(
        [
            (PATH, METHOD),
            (HISTORY_PATH, HISTORY_METHOD),
            (IMAGES_PATH, "post"),
            (UPLOADS_PATH, "post"),
            (UPLOAD_PATH, "get"),
            *openapi_reading.ROUTES,
            (USAGE_PATH, "get"),
        ]
    )
    scope = str(handler_module().REQUIRED_SCOPE)
    read_scope = str(history_handler_module().REQUIRED_SCOPE)
    refs, schemas = component_schemas()
    responses = _with_rate_limit_fields(
        {"200": _ok_response(refs["ProductResponse"]), **error_responses(scope, refs["ErrorResponse"])}
    )
    history_responses = {
        "200": _history_ok_response(refs["HistoryResponse"]),
        **error_responses(
            read_scope,
            refs["ErrorResponse"],
            HISTORY_ERRORS,
            idempotent=False,
            meanings=_HISTORY_CODE_MEANINGS,
            reserved_codes=(),
            validation_example=[
                FieldProblem(field="limit", message=f"must be a whole number from 1 to {requests.HISTORY_LIMIT_MAX}")
            ],
        ),
    }
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": TITLE,
            "version": importlib.metadata.version(DISTRIBUTION),
            "description": "Partial updates of products in a product catalogue, reading them, and the history of "
            "those updates. Every request and response body is "
            "JSON; every error is an `ErrorResponse` whose `code` is stable for programs and whose `error` is a "
            "human sentence, in English, Italian or German as the request's `Accept-Language` prefers (the answer's "
            "`Content-Language` says which). This document is generated from the code "
            "(`python -m products_api_local.openapi --write`).",
            "license": LICENSE,
        },
        "servers": SERVERS,
        "tags": TAGS,
        "paths": {
            PATH: {
                METHOD: {
                    "tags": ["products"],
                    "summary": "Update part of a product",
                    "description": "Changes the fields sent, and only those, of one product of the caller's "
                    "company. Checks run in this order, so a client can act on the first answer: credential "
                    "(401, 403), path id (400), media type (415), body size (413), `Idempotency-Key` (400), "
                    "`If-Match` (412), JSON (400 `invalid_json`), fields (400 `validation_error`, every problem "
                    "at once); then the update (404, 409, 412, 422, 503). `model` is unique per company among all "
                    "its products, compared by its Unicode NFKC case folding (full-width, compatibility and case "
                    "variants share one key); the stored value keeps the client's spelling.",
                    "operationId": OPERATION_ID,
                    "security": [{SECURITY_SCHEME: [scope]}],
                    "parameters": _parameters(),
                    "requestBody": _request_body(refs["ProductPatch"]),
                    "responses": responses,
                }
            },
            HISTORY_PATH: {
                HISTORY_METHOD: {
                    "tags": ["products"],
                    "summary": "Read a product's change history",
                    "description": "The writes of one product of the caller's company, newest first, a page at a "
                    "time: follow `nextCursor` until it is null to read them all, each exactly once (records "
                    "written meanwhile are newer, so they never shift a walk in progress). Checks run in this "
                    "order: credential (401, 403), path id (400 `invalid_id`), query parameters (400 "
                    "`validation_error`, every problem at once; a parameter other than `limit` and `cursor` is "
                    "refused, so a misspelt one is not silently ignored), cursor (400 `invalid_cursor`); then the "
                    "product (404 when the caller's company has no such product, whatever other companies hold). "
                    "History records are written shortly after each update, so the newest write may take a "
                    "moment to appear. Reads nothing but the product's existence and its history; writes nothing.",
                    "operationId": HISTORY_OPERATION_ID,
                    "security": [{SECURITY_SCHEME: [read_scope]}],
                    "parameters": _history_parameters(),
                    "responses": history_responses,
                }
            },
            **_image_paths(scope, read_scope, refs),
            USAGE_PATH: {"get": _usage_operation(read_scope, refs)},
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`Authorization: Bearer <token>`, where the token is an API key (`tp_…`, "
                    "created with `products-api credentials create`) or an OAuth 2.0 access token. The credential "
                    f"must carry the operation's scope, `{scope}` to update and `{read_scope}` to read products (or "
                    f"`{scope}`) and the history (403 `insufficient_scope` otherwise); a missing, malformed, "
                    "unknown, revoked or expired credential answers 401 `unauthorized`. The credential also "
                    "decides the company whose products can be seen and changed.",
                }
            },
        },
    }
    read_paths = openapi_reading.read_paths(
        scope=read_scope,
        write_scope=scope,
        refs=refs,
        error_responses=error_responses,
        id_parameter=_id_parameter(),
        example=_EXAMPLE_PRODUCT,
    )
    for path, operations in read_paths.items():
        # GET /api/v1/products/{id} shares its path with the PATCH
        document["paths"].setdefault(path, {}).update(operations)
    try:
        OpenAPI.model_validate(document)
    except ValidationError as exc:
        raise OpenApiError(f"the generated document is not OpenAPI: {exc}") from exc
    return document


def _upload_example() -> dict[str, Any]:
    return {
        "uploadId": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "productId": _EXAMPLE_PRODUCT.id,
        "status": "appended",
        "createdAt": "2026-05-09T15:30:00.000Z",
        "updatedAt": "2026-05-09T15:31:12.412Z",
        "imageUrl": f"https://d111111abcdef8.cloudfront.net/images/{_EXAMPLE_PRODUCT.id}/0f1e2d3c4b5a69788796a5b4c3d2e1f0.jpg",
        "version": 5,
    }


def _created_upload_example() -> dict[str, Any]:
    upload_id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    return {
        "uploadId": upload_id,
        "productId": _EXAMPLE_PRODUCT.id,
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


def _image_paths(scope: str, read_scope: str, refs: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The three image routes: a direct upload, a presigned upload, and its status."""
    error_ref = refs["ErrorResponse"]
    product_ok = _ok_response(refs["ProductResponse"])
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
        "content": {"application/json": {"schema": refs["UploadResponse"], "example": _created_upload_example()}},
    }
    status_ok = {
        "description": "The upload's status: `pending` until its file has landed and been judged, then `appended` "
        "(with `imageUrl` and the product's `version` after the append) or `rejected` (with `code` and `reason`: "
        "`invalid_image`, `payload_too_large`, `too_many_images` or `not_found`). A pending upload past its expiry "
        "never arrived.",
        "headers": {"Cache-Control": no_store},
        "content": {"application/json": {"schema": refs["UploadResponse"], "example": _upload_example()}},
    }
    upload_id = {
        "name": "uploadId",
        "in": "path",
        "required": True,
        "description": "The upload's id, from the `Location` of its 201.",
        "schema": {"type": "string"},
    }
    direct_parameters = [
        parameter for parameter in _parameters() if parameter["name"] in {"id", "Idempotency-Key", "If-Match"}
    ]
    return {
        IMAGES_PATH: {
            "post": {
                "tags": ["products"],
                "summary": "Append one image to a product",
                "description": f"One image of at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB as `multipart/form-data` "
                f"with one file part `{IMAGE_PART}`: JPEG, PNG or WebP, judged by its content. It is stored under a "
                "key of its own and its URL appended to `imageUrls` in one conditional write (at most 20 images). "
                "Checks run in this order: credential (401, 403), path id (400), media type (415), "
                "`Idempotency-Key` (400), `If-Match` (412), size (413), parts (400 `validation_error`), content "
                "(400 `invalid_image`); then the append (404, 409 `too_many_images`, 412). The idempotency "
                "fingerprint is the method, the product and the SHA-256 of the image.",
                "operationId": "uploadProductImage",
                "security": [{SECURITY_SCHEME: [scope]}],
                "parameters": direct_parameters,
                "requestBody": {
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
                "responses": _with_rate_limit_fields(
                    {"200": product_ok, **error_responses(scope, error_ref, DIRECT_UPLOAD_ERRORS, reserved_codes=())}
                ),
            }
        },
        UPLOADS_PATH: {
            "post": {
                "tags": ["products"],
                "summary": "Start a presigned upload of an image (up to 10 MB)",
                "description": "For files too large for the direct upload. Takes no body (or `{}`). Refused at once "
                "when the product already has 20 images.",
                "operationId": "createProductImageUpload",
                "security": [{SECURITY_SCHEME: [scope]}],
                "parameters": [_id_parameter()],
                "responses": _with_rate_limit_fields(
                    {
                        "201": created,
                        **error_responses(scope, error_ref, CREATE_UPLOAD_ERRORS, idempotent=False, reserved_codes=()),
                    }
                ),
            }
        },
        UPLOAD_PATH: {
            "get": {
                "tags": ["products"],
                "summary": "Read a presigned upload's status",
                "description": "Another company's upload, or another product's, is not found.",
                "operationId": "getProductImageUpload",
                "security": [{SECURITY_SCHEME: [read_scope]}],
                "parameters": [_id_parameter(), upload_id],
                "responses": {
                    "200": status_ok,
                    **error_responses(read_scope, error_ref, UPLOAD_STATUS_ERRORS, idempotent=False, reserved_codes=()),
                },
            }
        },
    }


def render(document: Mapping[str, Any]) -> str:
    """The file's text: the document's own key order, 2-space indent, UTF-8 as is, one trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- command line ------------------------------------------------------------------------------------------------


def _diff_summary(current: str, expected: str, path: Path, limit: int = 60) -> str:
    lines = list(
        difflib.unified_diff(
            current.splitlines(), expected.splitlines(), f"{path} (committed)", f"{path} (generated)", lineterm=""
        )
    )
    changed = sum(1 for line in lines if line[:1] in "+-" and line[:3] not in {"+++", "---"})
    shown = "\n".join(lines[:limit])
    more = f"\n... {len(lines) - limit} more diff lines" if len(lines) > limit else ""
    return f"{changed} changed lines\n{shown}{more}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m products_api_local.openapi", description="Generate the OpenAPI document of the products API."
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"write the document to {DOCUMENT_FILE}")
    action.add_argument("--check", action="store_true", help=f"exit 1 when {DOCUMENT_FILE} is not what is generated")
    parser.add_argument("--file", type=Path, help=f"the document's file (default: {DOCUMENT_FILE} of the project)")
    args = parser.parse_args(argv)

    try:
        text = render(build_document())
    except OpenApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path: Path = args.file or project_root() / DOCUMENT_FILE
    if args.write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)
        return 0
    if args.check:
        if not path.is_file():
            print(f"{path} does not exist: run {WRITE_COMMAND}", file=sys.stderr)
            return 1
        current = path.read_text(encoding="utf-8")
        if current != text:
            print(f"{path} is out of date: run {WRITE_COMMAND}", file=sys.stderr)
            print(_diff_summary(current, text, path), file=sys.stderr)
            return 1
        print(f"{path} is up to date", file=sys.stderr)
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
