"""GET /api/v1/products/{id}/history: a product's change history, a page at a time, newest first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from products_api.api import cursor, requests
from products_api.api import responses as api_responses
from products_api.errors import DomainError, FieldProblem

from products_api_local.openapi.components import id_parameter, operation_object
from products_api_local.openapi.error_responses import (
    EVERY_ROUTE_ERRORS,
    ONE_PRODUCT_ERRORS,
    PAGED_QUERY_ERRORS,
    error_responses,
)
from products_api_local.openapi.examples import EXAMPLE_HISTORY, EXAMPLE_PRODUCT
from products_api_local.openapi.headers import sent_answer

PATH = "/api/v1/products/{id}/history"
METHOD = "get"
OPERATION_ID = "getProductHistory"
# The handler's folder and module, as Lambda imports them (template.yaml: CodeUri and Handler).
HANDLER_FOLDER = Path("functions") / "get_product_history"
HANDLER_MODULE = "get_product_history"

# What the history route can answer besides 200 and 500.
ERRORS: tuple[type[DomainError], ...] = (*ONE_PRODUCT_ERRORS, *PAGED_QUERY_ERRORS, *EVERY_ROUTE_ERRORS)

# Where the history route's codes mean something else than the update's (it reads a query, and writes nothing).
CODE_MEANINGS = {
    "validation_error": (
        f"a query parameter is unknown, or `limit` is not a whole number from 1 to {requests.HISTORY_LIMIT_MAX}. "
        "`details` lists every problem at once, one entry per parameter."
    ),
    "unavailable": "the database stayed unavailable after retries: retry after `Retry-After` seconds.",
}


def parameters() -> list[dict[str, Any]]:
    example_cursor = cursor.encode_cursor(EXAMPLE_PRODUCT.id, 3)
    return [
        id_parameter(),
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


def ok_response(history_ref: dict[str, Any]) -> dict[str, Any]:
    """The history's 200: a page of records."""
    return sent_answer(
        api_responses.history_outcome(EXAMPLE_HISTORY, EXAMPLE_PRODUCT.id),
        "A page of the product's history, newest (highest version) first: one record per write, "
        "with the fields it changed, their values before and after (numbers exactly as stored), when and by which "
        "credential. `nextCursor` leads to the older records, and is null on the last page. A product with no "
        "recorded writes yet has an empty list.",
        history_ref,
    )


def operation(read_scope: str, refs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The history's GET operation; `read_scope` is the one the history function requires."""
    errors = error_responses(
        read_scope,
        refs["ErrorResponse"],
        ERRORS,
        idempotent=False,
        meanings=CODE_MEANINGS,
        reserved_codes=(),
        validation_example=[
            FieldProblem(field="limit", message=f"must be a whole number from 1 to {requests.HISTORY_LIMIT_MAX}")
        ],
    )
    return operation_object(
        OPERATION_ID,
        "Read a product's change history",
        "The writes of one product of the caller's company, newest first, a page at a "
        "time: follow `nextCursor` until it is null to read them all, each exactly once (records "
        "written meanwhile are newer, so they never shift a walk in progress). Checks run in this "
        "order: credential (401, 403), path id (400 `invalid_id`), query parameters (400 "
        "`validation_error`, every problem at once; a parameter other than `limit` and `cursor` is "
        "refused, so a misspelt one is not silently ignored), cursor (400 `invalid_cursor`); then the "
        "product (404 when the caller's company has no such product, whatever other companies hold). "
        "History records are written shortly after each update, so the newest write may take a "
        "moment to appear. Reads nothing but the product's existence and its history; writes nothing.",
        scopes=[read_scope],
        parameters=parameters(),
        responses={"200": ok_response(refs["HistoryResponse"]), **errors},
    )
