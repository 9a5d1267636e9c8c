"""GET /api/v1/products/{id} (read a product, with its `ETag` and 304) and GET /api/v1/products (list them a page
at a time, or find one by `model`)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from products_api.api import reading
from products_api.api.cursor import BASE64URL, MAX_CURSOR_LENGTH, encode_list_cursor
from products_api.errors import DomainError, FieldProblem
from products_api.products.models import Product
from products_api.products.store import ProductPage

from products_api_local.openapi.components import id_parameter, operation_object
from products_api_local.openapi.error_responses import (
    EVERY_ROUTE_ERRORS,
    ONE_PRODUCT_ERRORS,
    PAGED_QUERY_ERRORS,
    error_responses,
)
from products_api_local.openapi.examples import EXAMPLE_PRODUCT

PRODUCT_PATH = "/api/v1/products/{id}"
LIST_PATH = "/api/v1/products"
ROUTES = ((PRODUCT_PATH, "get"), (LIST_PATH, "get"))
GET_OPERATION_ID = "getProduct"
LIST_OPERATION_ID = "listProducts"
# The handler's folder and module, as Lambda imports them (template.yaml: CodeUri and Handler).
HANDLER_FOLDER = Path("functions") / "get_products"
HANDLER_MODULE = "get_products"

# What each read route can answer besides 200 (and 304) and 500.
GET_ERRORS: tuple[type[DomainError], ...] = (*ONE_PRODUCT_ERRORS, *EVERY_ROUTE_ERRORS)
LIST_ERRORS: tuple[type[DomainError], ...] = (*PAGED_QUERY_ERRORS, *EVERY_ROUTE_ERRORS)
_READ_MEANINGS = {
    "unavailable": "the database stayed unavailable after retries: retry after `Retry-After` seconds.",
    "validation_error": (
        f"a query parameter is unknown, `limit` is not a whole number from 1 to {reading.LIST_LIMIT_MAX}, `status` "
        "is not `active` or `archived`, `model` is empty or longer than 100 characters, or `cursor` is sent with "
        "`model`. `details` lists every problem at once, one entry per parameter."
    ),
    "invalid_cursor": (
        "`cursor` is not a `nextCursor` this API handed out to the caller's company for the same `status` "
        "(garbled, edited, or another filter's)."
    ),
}
_HEADERS = {
    "ETag": 'The product\'s version as a strong entity tag, such as `"4"`: send it in `If-Match` to update only '
    "that version, or in `If-None-Match` to be answered 304 while it is current.",
    "Cache-Control": "How a cache may keep the answer: `private, no-cache` for a product (the caller's own; "
    "revalidate with `If-None-Match` before reuse), `no-store` for a page of products.",
}


def _headers(headers: dict[str, str]) -> dict[str, Any]:
    return {
        name: {
            "description": _HEADERS[name],
            "required": True,
            "schema": {"type": "string", "pattern": '^"[0-9]+"$'} if name == "ETag" else {"type": "string"},
            "example": value,
        }
        for name, value in headers.items()
    }


def _get_responses(example: Product, product_ref: dict[str, Any], errors: dict[str, Any]) -> dict[str, Any]:
    full = reading.product_read_outcome(example, None)
    not_modified = reading.product_read_outcome(example, example.etag)
    return {
        "200": {
            "description": "The product, exactly as `PATCH` answers it, with its `ETag`.",
            "headers": _headers(full.headers),
            "content": {"application/json": {"schema": product_ref, "example": json.loads(full.body)}},
        },
        "304": {
            "description": 'Not Modified. `If-None-Match` names the current version (weak comparison: `W/"4"` '
            'and `"4"` are the same here), or is `*`: the copy the client holds is current. No body.',
            "headers": _headers(not_modified.headers),
        },
        **errors,
    }


def _list_parameters(example: Product) -> list[dict[str, Any]]:
    return [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": f"How many products a page holds at most: a whole number from 1 to "
            f"{reading.LIST_LIMIT_MAX} (default {reading.LIST_LIMIT_DEFAULT}). A page holds exactly this many "
            "unless it is the last one.",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": reading.LIST_LIMIT_MAX,
                "default": reading.LIST_LIMIT_DEFAULT,
            },
            "example": 20,
        },
        {
            "name": "cursor",
            "in": "query",
            "required": False,
            "description": "Where the next page starts: the `nextCursor` of the previous page, sent back as it is "
            "and with the same `status`. Opaque; anything else answers 400 `invalid_cursor`.",
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_CURSOR_LENGTH,
                "pattern": f"^{BASE64URL.pattern}$",
            },
            "example": encode_list_cursor(example.company_id, example.id, None),
        },
        {
            "name": "status",
            "in": "query",
            "required": False,
            "description": "Only products with this status.",
            "schema": {"type": "string", "enum": list(reading.STATUSES)},
        },
        {
            "name": "model",
            "in": "query",
            "required": False,
            "description": "Only the product holding this model, compared as model uniqueness compares it (so "
            "`li-48v-20ah` finds `LI-48V-20AH`); trimmed, 1-100 characters. The page then holds at most one "
            "product and no `nextCursor`; `cursor` cannot be sent with it.",
            "schema": {"type": "string", "minLength": 1, "maxLength": reading.MODEL_MAX_LENGTH},
            "example": example.model,
        },
    ]


def _list_responses(example: Product, list_ref: dict[str, Any], errors: dict[str, Any]) -> dict[str, Any]:
    outcome = reading.product_list_outcome(ProductPage(products=(example,), has_more=True), example.company_id, None)
    return {
        "200": {
            "description": "A page of the caller's company's products in id order, each as "
            "`GET /api/v1/products/{id}` answers it. `nextCursor` leads to the next page and is null on the last "
            "one (never a cursor to an empty page). Products written meanwhile may or may not appear in a walk "
            "in progress; none appears twice.",
            "headers": _headers(outcome.headers),
            "content": {"application/json": {"schema": list_ref, "example": json.loads(outcome.body)}},
        },
        **errors,
    }


def read_paths(
    *,
    scope: str,
    write_scope: str,
    refs: dict[str, dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """The two read operations, by path and method; `scope` reads, `write_scope` may read too."""
    example = EXAMPLE_PRODUCT
    # reads keep nothing for replay, and their codes mean what a query's do
    read_errors = functools.partial(
        error_responses, scope, refs["ErrorResponse"], idempotent=False, meanings=_READ_MEANINGS, reserved_codes=()
    )
    get_errors = read_errors(GET_ERRORS)
    list_errors = read_errors(
        LIST_ERRORS,
        validation_example=[
            FieldProblem(
                field="limit",
                message=f"must be a whole number from 1 to {reading.LIST_LIMIT_MAX}",
                reason="limit_range",
                params={"max": reading.LIST_LIMIT_MAX},
            )
        ],
    )
    return {
        PRODUCT_PATH: {
            "get": operation_object(
                GET_OPERATION_ID,
                "Read a product",
                "One product of the caller's company, as `PATCH` answers it, with its `ETag`: read "
                "it, then update it with `If-Match` set to that `ETag` so a change made meanwhile is never "
                "overwritten. A read is consistent: it sees every write answered before it. Checks run in this "
                "order: credential (401, 403; `products:read` or `products:write`), path id (400 `invalid_id`), "
                "then the product (404 when the caller's company has none with this id, whatever other companies "
                "hold). Writes nothing and never counts as a write.",
                scopes=[scope, write_scope],
                parameters=[
                    id_parameter(),
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "required": False,
                        "description": "`*` or entity tags from an earlier `ETag`; compared weakly (RFC 9110), so "
                        '`W/"4"` matches version 4 as `"4"` does. When one names the current version: 304 with '
                        "no body. A value that is not a list of entity tags matches nothing.",
                        "schema": {"type": "string"},
                        "example": example.etag,
                    },
                ],
                responses=_get_responses(example, refs["ProductResponse"], get_errors),
            )
        },
        LIST_PATH: {
            "get": operation_object(
                LIST_OPERATION_ID,
                "List products",
                "The caller's company's products a page at a time, in id order, optionally only one "
                "`status`, or the product holding a `model`. Follow `nextCursor` until it is null to read them "
                "all. Checks run in this order: credential (401, 403), query parameters (400 `validation_error`, "
                "every problem at once; an unknown parameter is refused, so a misspelt one is not silently "
                "ignored), cursor (400 `invalid_cursor`). Writes nothing and never counts as a write.",
                scopes=[scope, write_scope],
                parameters=_list_parameters(example),
                responses=_list_responses(example, refs["ProductListResponse"], list_errors),
            )
        },
    }
