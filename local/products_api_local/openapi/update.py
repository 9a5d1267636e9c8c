"""PATCH /api/v1/products/{id}: the partial update, its parameters (`Idempotency-Key`, `If-Match`), its body and
its answers, which are every entry of the error catalogue but those of reading a query and of the image routes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from products_api import errors as api_errors
from products_api.api import catalogue, requests
from products_api.api import responses as api_responses
from products_api.core.settings import Settings
from products_api.errors import DomainError, InvalidCursor
from products_api.products.fields import READ_ONLY_FIELDS
from products_api.products.models import ProductPatch
from pydantic import ValidationError

from products_api_local.openapi.components import OpenApiError, id_parameter, operation_object
from products_api_local.openapi.error_responses import error_responses, kept_outcomes
from products_api_local.openapi.examples import EXAMPLE_PATCH, EXAMPLE_PRODUCT
from products_api_local.openapi.headers import replay_header, replayed_header, sent_answer, with_rate_limit_fields

PATH = "/api/v1/products/{id}"
METHOD = "patch"
OPERATION_ID = "updateProduct"
# The handler's folder and module, as Lambda imports them (template.yaml: CodeUri and Handler).
HANDLER_FOLDER = Path("functions") / "update_product"
HANDLER_MODULE = "update_product"

# What the update never answers: a cursor is the history's and the lists' (a query), the rest the image routes'.
NOT_THE_UPDATES: frozenset[type[DomainError]] = frozenset(
    {InvalidCursor, api_errors.InvalidImage, api_errors.TooManyImages, api_errors.UploadNotFound}
)


# `products_api.api.requests` matches Idempotency-Key case-insensitively after trimming; JSON Schema patterns have
# no flags.
IDEMPOTENCY_KEY_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"


def update_errors() -> tuple[type[DomainError], ...]:
    """What the update can answer besides 200 and 500: the whole error table but the entries of other routes."""
    return tuple(error_type for error_type in catalogue.ERRORS if error_type not in NOT_THE_UPDATES)


def parameters() -> list[dict[str, Any]]:
    kept_hours = Settings.model_fields["idempotency_expiry_seconds"].default // 3600
    kept = kept_outcomes()
    return [
        id_parameter(),
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
            "example": EXAMPLE_PRODUCT.etag,
        },
    ]


def request_body(patch_ref: dict[str, Any]) -> dict[str, Any]:
    try:
        ProductPatch.model_validate(EXAMPLE_PATCH)
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
        "content": {"application/json": {"schema": patch_ref, "example": EXAMPLE_PATCH}},
    }


def ok_response(product_ref: dict[str, Any]) -> dict[str, Any]:
    """The 200 of the update (also of the direct image upload): the product, and `Idempotent-Replayed` on a replay."""
    answer = sent_answer(
        api_responses.product_outcome(EXAMPLE_PRODUCT),
        "The product after the update. Each write adds 1 to `version` and sets `updatedAt`; "
        "timestamps are ISO 8601 UTC with milliseconds and `Z`.",
        product_ref,
    )
    replay_name, _ = replay_header()
    answer["headers"][replay_name] = replayed_header()
    return answer


def operation(scope: str, refs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The PATCH operation; `scope` is the one the update function requires."""
    errors = error_responses(scope, refs["ErrorResponse"], update_errors())
    return operation_object(
        OPERATION_ID,
        "Update part of a product",
        "Changes the fields sent, and only those, of one product of the caller's "
        "company. Checks run in this order, so a client can act on the first answer: credential "
        "(401, 403), path id (400), media type (415), body size (413), `Idempotency-Key` (400), "
        "`If-Match` (412), JSON (400 `invalid_json`), fields (400 `validation_error`, every problem "
        "at once); then the update (404, 409, 412, 422, 503). `model` is unique per company among all "
        "its products, compared by its Unicode NFKC case folding (full-width, compatibility and case "
        "variants share one key); the stored value keeps the client's spelling.",
        scopes=[scope],
        parameters=parameters(),
        request_body=request_body(refs["ProductPatch"]),
        responses=with_rate_limit_fields({"200": ok_response(refs["ProductResponse"]), **errors}),
    )
