"""Reading a request: the PATCH's path, headers and body, and the history route's path and query, in the order a
client can act on."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from products_api.api.cursor import decode_cursor
from products_api.api.messages import DEFAULT_LANGUAGE, detail_sentence
from products_api.core import jsonio
from products_api.errors import (
    FieldProblem,
    InvalidIdempotencyKey,
    InvalidJson,
    InvalidProductId,
    MessagePart,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from products_api.products.fields import READ_ONLY_FIELDS
from products_api.products.models import ProductPatch
from products_api.products.preconditions import VersionCondition, parse_if_match

MAX_BODY_BYTES = 256 * 1024
OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")
# What the 400 says, and what the API reference and the OpenAPI document say of the header.
IDEMPOTENCY_KEY_FORMAT = "Idempotency-Key must be a UUID version 4, such as 3f1c2a9e-8b7d-4c6e-9a1f-2b3c4d5e6f70"
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE)


@dataclass(frozen=True)
class PatchRequest:
    product_id: str
    patch: ProductPatch
    # the body as one canonical JSON text: what an idempotent replay must match. None without an Idempotency-Key:
    # nothing reads it then, and canonicalising the body cost every plain PATCH time
    body_fingerprint: str | None
    idempotency_key: str | None
    version_condition: VersionCondition


def product_id_from_path(raw: str) -> str:
    if not OBJECT_ID.fullmatch(raw):
        raise InvalidProductId("product id must be a 24-character hexadecimal ObjectId")
    return raw.lower()


def _check_content_type(value: str | None) -> None:
    if value == "application/json":
        return  # what nearly every client sends
    if not value:
        raise UnsupportedMediaType(
            "send the body as JSON with `Content-Type: application/json`", reason="content_type_missing"
        )
    media_type, *parameters = (part.strip() for part in value.split(";"))
    if media_type.lower() != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type {media_type!r} is not supported: send application/json",
            reason="content_type_unsupported",
            params={"media_type": repr(media_type)},
        )
    for parameter in parameters:
        name, _, parameter_value = parameter.partition("=")
        if name.strip().lower() == "charset" and parameter_value.strip().strip('"').lower() not in {"utf-8", "utf8"}:
            raise UnsupportedMediaType("the body must be UTF-8 (charset=utf-8)", reason="charset_unsupported")


def raw_body(event: Mapping[str, Any], *, keep_surrogates: bool = False) -> bytes:
    """The body's bytes: base64-decoded when API Gateway encoded it, else its text as UTF-8. A JSON body's text must
    be valid UTF-8; `keep_surrogates` keeps whatever bytes a text body carries (for parsers of binary formats)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidJson("body is not valid base64") from exc
    if keep_surrogates:
        return str(body).encode("utf-8", "surrogateescape")
    try:
        return str(body).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidJson("body is not valid UTF-8") from exc


def idempotency_key_of(headers: Mapping[str, str], format_message: str = IDEMPOTENCY_KEY_FORMAT) -> str | None:
    """The Idempotency-Key header, trimmed and lower-cased; a value that is not a UUID version 4 is a 400."""
    key = headers.get("idempotency-key")
    if key is None:
        return None
    if not UUID4.fullmatch(key.strip()):
        raise InvalidIdempotencyKey(format_message)
    return key.strip().lower()


def _message_part(item: ErrorDetails, name: str) -> MessagePart:
    """A pydantic error as the project words it (api/messages.py): its type and context, never pydantic's text."""
    location = item["loc"]
    error_type = item["type"]
    if error_type == "extra_forbidden":
        error_type = "read_only_field" if name in READ_ONLY_FIELDS else "unknown_field"
    params = dict(item.get("ctx") or {})
    if error_type == "literal_error":
        # pydantic quotes the choices its own way ("'active' or 'archived'"); the API lists them plainly
        params["expected"] = str(params.get("expected", "")).replace("'", "").replace(" or ", ", ")
    item_position = location[1] if len(location) > 1 and isinstance(location[1], int) else None
    return MessagePart(reason=error_type, params=params, item=item_position)


def _field_problems(error: ValidationError) -> list[FieldProblem]:
    """One entry per top-level field, every message for it joined, in the order the body gave them."""
    parts: dict[str, list[MessagePart]] = {}
    for item in error.errors(include_url=False, include_input=False):
        location = item["loc"]
        name = str(location[0]) if location else "body"
        part = _message_part(item, name)
        if part not in parts.setdefault(name, []):
            parts[name].append(part)
    return [
        FieldProblem(
            field=name,
            message="; ".join(detail_sentence(p.reason, p.params, DEFAULT_LANGUAGE, p.item) for p in field_parts),
            parts=tuple(field_parts),
        )
        for name, field_parts in parts.items()
    ]


def parse_patch_request(event: Mapping[str, Any], headers: Mapping[str, str], raw_product_id: str) -> PatchRequest:
    """Check a PATCH in the order a client can act on: id, media type, size, headers, JSON, fields."""
    product_id = product_id_from_path(raw_product_id)
    _check_content_type(headers.get("content-type"))
    raw = raw_body(event)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"the body is {len(raw)} bytes; at most {MAX_BODY_BYTES} are accepted",
            reason="body_too_large",
            params={"size": len(raw), "max": MAX_BODY_BYTES},
        )
    idempotency_key = idempotency_key_of(headers)
    version_condition = parse_if_match(headers.get("if-match"))
    document = jsonio.parse_object(raw)
    try:
        patch = ProductPatch.model_validate(document)
    except ValidationError as exc:
        raise ValidationFailed(_field_problems(exc)) from exc
    return PatchRequest(
        product_id=product_id,
        patch=patch,
        body_fingerprint=jsonio.canonical(document) if idempotency_key is not None else None,
        idempotency_key=idempotency_key,
        version_condition=version_condition,
    )


# --- GET /api/v1/products/{id}/history --------------------------------------------------------------------------

HISTORY_LIMIT_DEFAULT = 20
HISTORY_LIMIT_MAX = 100
HISTORY_QUERY_PARAMETERS = ("limit", "cursor")
_LIMIT = re.compile(r"[0-9]{1,3}")


@dataclass(frozen=True)
class HistoryRequest:
    product_id: str
    limit: int
    # continue below this version (from the cursor); None: from the newest
    before_version: int | None


def paging_query(
    query: Mapping[str, str], known: tuple[str, ...], limit_default: int, limit_max: int
) -> tuple[int, list[FieldProblem]]:
    """What every paged route checks first: the page size `limit` (1 to `limit_max`, else `limit_default`) and a
    problem for each parameter not in `known` or a bad limit, for the route to add its own problems to."""
    problems = [
        FieldProblem(
            field=name,
            message=f"is not a known query parameter (known: {', '.join(known)})",
            reason="unknown_query_parameter",
            params={"known": ", ".join(known)},
        )
        for name in query
        if name not in known
    ]
    raw_limit = query.get("limit")
    if raw_limit is None:
        return limit_default, problems
    if _LIMIT.fullmatch(raw_limit) and 1 <= int(raw_limit) <= limit_max:
        return int(raw_limit), problems
    problems.append(
        FieldProblem(
            field="limit",
            message=f"must be a whole number from 1 to {limit_max}",
            reason="limit_range",
            params={"max": limit_max},
        )
    )
    return limit_default, problems


def parse_history_request(query: Mapping[str, str], raw_product_id: str) -> HistoryRequest:
    """Check a history request: the id, then every query parameter problem at once, then the cursor."""
    product_id = product_id_from_path(raw_product_id)
    limit, problems = paging_query(query, HISTORY_QUERY_PARAMETERS, HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX)
    if problems:
        raise ValidationFailed(problems)
    raw_cursor = query.get("cursor")
    before_version = decode_cursor(raw_cursor, product_id) if raw_cursor is not None else None
    return HistoryRequest(product_id=product_id, limit=limit, before_version=before_version)
