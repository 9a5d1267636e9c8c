"""The response headers of the document: reason phrases, each header's description by status, the `Idempotent-Replayed`
header of kept answers, and the RateLimit fields of the writes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from products_api.api import responses as api_responses

from products_api_local.openapi.components import OpenApiError
from products_api_local.openapi.examples import EXAMPLE_RATE

# Refused before the limiter runs: these answers carry no RateLimit fields.
BEFORE_THE_LIMITER = frozenset({400, 401, 403, 413, 415})

# RFC 9110's reason phrases, written out so the document does not depend on the Python version's HTTPStatus.
REASONS = {
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

# The RateLimit fields of a write's answers, whatever their status once the limiter ran.
RATE_LIMIT_DOCS = {
    "RateLimit-Policy": (
        "The company's write rate (draft-ietf-httpapi-ratelimit-headers): `q` writes per `w` seconds, in fixed "
        "windows aligned on the minute. Absent when the rate is not limited (or the limiter could not be reached)."
    ),
    "RateLimit": (
        "What is left of the rate (draft-ietf-httpapi-ratelimit-headers): `r` more writes in this window, which "
        "ends in `t` seconds. Sent on every answer of a write that reached the limiter, whatever its status."
    ),
}
# Header descriptions, by header and status. A header the code sends without a description here stops the generation.
HEADER_DOCS: dict[tuple[str, int], str] = {
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
        for status in REASONS
        if status >= 400
    },
    **{
        ("Vary", status): "`Accept-Language`: the sentences of this answer depend on that request header."
        for status in REASONS
        if status >= 400
    },
    # the RateLimit fields of every answer a write can give once the limiter ran
    **{
        (name, status): text
        for status in (200, 201, 404, 409, 412, 422, 429, 500, 503)
        for name, text in RATE_LIMIT_DOCS.items()
    },
}
HEADER_SCHEMAS: dict[str, dict[str, Any]] = {
    "ETag": {"type": "string", "pattern": '^"[0-9]+"$'},
    "Retry-After": {"type": "integer", "minimum": 0},
}


def replay_header() -> tuple[str, str]:
    """The header (name, value) a replayed outcome adds."""
    plain = api_responses.Outcome(200, "{}").response_headers()
    replayed = api_responses.Outcome(200, "{}", replayed=True).response_headers()
    (added,) = (name for name in replayed if name not in plain)
    return added, replayed[added]


def header(name: str, status: int, value: str, *, required: bool) -> dict[str, Any]:
    description = HEADER_DOCS.get((name, status))
    if description is None:
        raise OpenApiError(f"the code sends {name} with {status}: describe it in HEADER_DOCS")
    schema = dict(HEADER_SCHEMAS.get(name, {"type": "string"}))
    example: str | int = int(value) if schema["type"] == "integer" else value
    return {"description": description, "required": required, "schema": schema, "example": example}


def replayed_header(only: Sequence[str] = ()) -> dict[str, Any]:
    """`Idempotent-Replayed`; `only` names the codes of the status that can be replayed when not all can."""
    _, value = replay_header()
    which = f" (with `{'`, `'.join(only)}` only)" if only else ""
    return {
        "description": f"`{value}` when this is the kept answer to an earlier request with the same "
        f"`Idempotency-Key`{which}; absent otherwise.",
        "required": False,
        "schema": {"type": "string", "enum": [value]},
    }


def with_rate_limit_fields(responses: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A write operation's responses, each answered after the limiter ran also documenting the RateLimit fields
    (optional: absent when the company's rate is unlimited). The 429s already list them from their samples.
    """
    documented: dict[str, dict[str, Any]] = {}
    for status, response in responses.items():
        if int(status) in BEFORE_THE_LIMITER:
            documented[status] = response
            continue
        headers = dict(response.get("headers") or {})
        for name, value in EXAMPLE_RATE.headers().items():
            headers.setdefault(name, header(name, int(status), value, required=False))
        documented[status] = {**response, "headers": headers}
    return documented


def sent_answer(outcome: api_responses.Outcome, description: str, schema_ref: dict[str, Any]) -> dict[str, Any]:
    """A success the code sends: every header of `outcome` (described, required), its body as the example."""
    headers = {name: header(name, outcome.status_code, value, required=True) for name, value in outcome.headers.items()}
    return {
        "description": description,
        "headers": headers,
        "content": {"application/json": {"schema": schema_ref, "example": json.loads(outcome.body)}},
    }
