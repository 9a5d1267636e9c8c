"""GET /api/v1/usage: the caller's company's metered writes this month, its quota and its write rate."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from products_api.errors import DomainError, FieldProblem, ValidationFailed
from products_api.limits.store import WINDOW_SECONDS
from products_api.limits.usage import UsageResponse

from products_api_local.openapi.components import operation_object
from products_api_local.openapi.error_responses import EVERY_ROUTE_ERRORS, error_responses

PATH = "/api/v1/usage"
METHOD = "get"
# The handler's folder and module, as Lambda imports them (template.yaml: CodeUri and Handler).
HANDLER_FOLDER = Path("functions") / "get_usage"
HANDLER_MODULE = "get_usage"
# What the usage route can answer besides 200 and 500.
ERRORS: tuple[type[DomainError], ...] = (ValidationFailed, *EVERY_ROUTE_ERRORS)


def operation(read_scope: str, refs: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The usage's GET operation; `read_scope` is the one the usage function requires."""
    example = UsageResponse.model_validate(
        {"month": "2026-05", "writes": 1234, "quota": 50000, "rate": {"limit": 100, "windowSeconds": WINDOW_SECONDS}}
    )
    return operation_object(
        "getUsage",
        "Read the company's write usage this month, its quota and its rate",
        "Every applied write (a new `version` of a product, by PATCH or an image append) counts once "
        "toward the caller's company's month (UTC); idempotent replays, `{}` and refused requests do not. The count "
        "comes from the products table's stream, so the newest writes may take a moment to show (and the quota, "
        "checked against the same count, lags by as much). Takes no query parameter (400 `validation_error`).",
        scopes=[read_scope],
        responses={
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
                ERRORS,
                idempotent=False,
                reserved_codes=(),
                meanings={"validation_error": "the route takes no query parameter; `details` names each one sent."},
                validation_example=[FieldProblem(field="month", message="unknown query parameter")],
            ),
        },
        tag="usage",
    )
