"""The history route's page cursor: opaque to clients, and only ever the one this API handed out for the product."""

from __future__ import annotations

import base64
import binascii
import json
import re

from products_api.errors import InvalidCursor

# Cursors this API hands out are ~60 characters; anything much longer is not one of them.
MAX_CURSOR_LENGTH = 200
# Versions count writes: far below this. A bigger number could not be sent to DynamoDB as a key value anyway.
_MAX_CURSOR_VERSION = 2**63 - 1
BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_NOT_OUR_CURSOR = "cursor is not one this API handed out: send the nextCursor of the previous page as is"


def encode_cursor(product_id: str, before_version: int) -> str:
    """Opaque to clients: base64url (unpadded) of a compact JSON naming the product and where to continue."""
    text = json.dumps({"p": product_id, "v": before_version}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, product_id: str) -> int:
    """The version to continue below. Only a cursor this API handed out for this product is accepted: anything
    else (garbled, edited, re-encoded, or another product's) is refused rather than silently read from elsewhere.
    """
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not BASE64URL.fullmatch(cursor):
        raise InvalidCursor(_NOT_OUR_CURSOR, reason="cursor_not_ours")
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidCursor(_NOT_OUR_CURSOR, reason="cursor_not_ours") from exc
    if not isinstance(document, dict):
        raise InvalidCursor(_NOT_OUR_CURSOR, reason="cursor_not_ours")
    owner, version = document.get("p"), document.get("v")
    if not (
        isinstance(owner, str)
        and isinstance(version, int)
        and not isinstance(version, bool)
        and 1 <= version <= _MAX_CURSOR_VERSION
        # the exact text this API writes for these values: an edited or hand-made cursor differs
        and encode_cursor(owner, version) == cursor
    ):
        raise InvalidCursor(_NOT_OUR_CURSOR, reason="cursor_not_ours")
    if owner != product_id:
        raise InvalidCursor("cursor belongs to another product's history", reason="cursor_other_product")
    return version


# --- GET /api/v1/products: the listing's cursor ------------------------------------------------------------------


def encode_list_cursor(company_id: str, after_id: str, status: str | None) -> str:
    """Opaque to clients: the company, the last product id of the page, and the `status` filter it was made for."""
    text = json.dumps({"c": company_id, "a": after_id, "s": status}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


_LIST_CURSOR_ID = re.compile(r"[0-9a-f]{24}")


def decode_list_cursor(cursor: str, company_id: str, status: str | None) -> str:
    """The product id to continue after. Only a cursor this API handed out to this company for this same `status`
    filter is accepted: a cursor is never read as another company's or another filter's position.
    """
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not BASE64URL.fullmatch(cursor):
        raise InvalidCursor(_NOT_OUR_CURSOR, reason="cursor_not_ours")
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor(_NOT_OUR_CURSOR, reason="cursor_not_ours") from exc
    if not isinstance(document, dict):
        raise InvalidCursor(_NOT_OUR_CURSOR, reason="cursor_not_ours")
    owner, after_id, cursor_status = document.get("c"), document.get("a"), document.get("s")
    if not (
        isinstance(owner, str)
        and isinstance(after_id, str)
        and _LIST_CURSOR_ID.fullmatch(after_id)
        and (cursor_status is None or isinstance(cursor_status, str))
        and encode_list_cursor(owner, after_id, cursor_status) == cursor
    ):
        raise InvalidCursor(_NOT_OUR_CURSOR, reason="cursor_not_ours")
    if owner != company_id:
        raise InvalidCursor(_NOT_OUR_CURSOR, reason="cursor_not_ours")
    if cursor_status != status:
        raise InvalidCursor(
            "cursor was handed out for another status filter: send the same status with it",
            reason="cursor_other_status",
        )
    return after_id
