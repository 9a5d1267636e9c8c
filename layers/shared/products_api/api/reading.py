"""The read routes' requests and answers: GET /api/v1/products/{id} (conditional on If-None-Match) and
GET /api/v1/products (a page of the company's products, or the one holding a model)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from products_api.api.cursor import decode_list_cursor, encode_list_cursor
from products_api.api.requests import paging_query
from products_api.api.responses import Outcome
from products_api.errors import FieldProblem, ValidationFailed
from products_api.products.reader import ProductListResponse
from products_api.products.responses import ProductResponse

if TYPE_CHECKING:
    from products_api.products.fields import Status
    from products_api.products.models import Product
    from products_api.products.store import ProductPage

LIST_LIMIT_DEFAULT = 20
LIST_LIMIT_MAX = 100
LIST_QUERY_PARAMETERS = ("limit", "cursor", "status", "model")
STATUSES = ("active", "archived")
# what `model` may be to name a stored model: what PATCH accepts (trimmed, 1-100 characters)
MODEL_MAX_LENGTH = 100
# RFC 9110 entity-tag, weak or strong; If-None-Match compares weakly, so W/"4" and "4" both name version 4
_ENTITY_TAG = re.compile(r'\s*(?:W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')

# A product may change at any moment and belongs to the caller: a cache may keep it for the caller only, and must
# ask again (If-None-Match, answered 304 while unchanged) before reusing it.
PRODUCT_CACHE_CONTROL = "private, no-cache"
# A page has no validator to ask again with, and changes with every write of the company: never cached.
LIST_CACHE_CONTROL = "no-store"


@dataclass(frozen=True)
class ListRequest:
    limit: int
    # continue after this product id (from the cursor); None: from the first
    after_id: str | None
    status: Status | None
    # the model to look up (trimmed); None: a page of every product
    model: str | None


def parse_list_request(query: Mapping[str, str], company_id: str) -> ListRequest:
    """Every query parameter problem at once, then the cursor (which must be this company's and this filter's)."""
    limit, problems = paging_query(query, LIST_QUERY_PARAMETERS, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX)
    status = query.get("status")
    if status is not None and status not in STATUSES:
        problems.append(
            FieldProblem(
                field="status",
                message="must be one of: active, archived",
                reason="enum",
                params={"expected": "active, archived"},
            )
        )
    model = query.get("model")
    if model is not None:
        model = model.strip()
        if not 1 <= len(model) <= MODEL_MAX_LENGTH:
            problems.append(
                FieldProblem(
                    field="model",
                    message=f"must be 1 to {MODEL_MAX_LENGTH} characters once trimmed",
                    reason="length_range",
                    params={"min": 1, "max": MODEL_MAX_LENGTH},
                )
            )
        elif "cursor" in query:
            problems.append(
                FieldProblem(
                    field="cursor",
                    message="cannot be combined with model: a model names at most one product",
                    reason="cursor_with_model",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    typed_status = cast("Status | None", status)
    raw_cursor = query.get("cursor")
    after_id = decode_list_cursor(raw_cursor, company_id, status) if raw_cursor is not None else None
    return ListRequest(limit=limit, after_id=after_id, status=typed_status, model=model)


def none_match(header: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*`, or a list naming `etag` by weak comparison (W/ ignored on both sides). A header
    that is not a list of entity tags matches nothing, so the product is answered in full."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    current = etag.removeprefix("W/")
    for part in header.split(","):
        match = _ENTITY_TAG.fullmatch(part)
        if match is not None and f'"{match.group(1)}"' == current:
            return True
    return False


def product_read_outcome(product: Product, if_none_match: str | None) -> Outcome:
    """200 with the product as PATCH answers it, or 304 (no body) when the client's copy is current."""
    headers = {"ETag": product.etag, "Cache-Control": PRODUCT_CACHE_CONTROL}
    if none_match(if_none_match, product.etag):
        return Outcome(304, "", headers)
    return Outcome(200, ProductResponse.from_product(product).to_json(), headers)


def product_list_outcome(page: ProductPage, company_id: str, status: str | None) -> Outcome:
    next_cursor = (
        encode_list_cursor(company_id, page.products[-1].id, status) if page.has_more and page.products else None
    )
    body = ProductListResponse(
        items=[ProductResponse.from_product(product) for product in page.products], next_cursor=next_cursor
    )
    return Outcome(200, body.to_json(), {"Cache-Control": LIST_CACHE_CONTROL})
