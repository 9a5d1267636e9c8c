"""The read routes in docs/openapi.json: GET /api/v1/products/{id}/history (its parameters, errors, headers and
schemas, against what the code answers), GET /api/v1/products/{id} and GET /api/v1/products.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from openapi_support import PATH, documented_errors, language_headers, media_examples
from products_api.api import cursor, requests, responses
from products_api.errors import ValidationFailed
from products_api.history.store import FieldChange, HistoryEntry, HistoryPage

# GET .../history: what the issue asks (same credentials, scope products:read) and the route answers.
HISTORY_ERRORS = {
    (400, "invalid_id"),
    (400, "validation_error"),
    (400, "invalid_cursor"),
    (401, "unauthorized"),
    (403, "insufficient_scope"),
    (404, "not_found"),
    (500, "internal_error"),
    (503, "unavailable"),
}
HISTORY_HEADERS = {
    200: {("Cache-Control", True)},
    401: {("WWW-Authenticate", True)},
    403: {("WWW-Authenticate", True)},
    503: {("Retry-After", True)},
}


def test_history_operation_basics(history_operation: dict[str, Any], document: dict[str, Any]) -> None:
    assert history_operation["operationId"] == "getProductHistory"
    assert history_operation["security"] == [{"bearer": ["products:read"]}]
    assert "products:read" in document["components"]["securitySchemes"]["bearer"]["description"]
    assert "requestBody" not in history_operation
    params = {(p["name"], p["in"]): p for p in history_operation["parameters"]}
    assert set(params) == {("id", "path"), ("limit", "query"), ("cursor", "query")}
    assert params[("id", "path")]["schema"]["pattern"] == "^[0-9a-fA-F]{24}$"
    limit = params[("limit", "query")]
    assert limit["required"] is False
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    assert params[("cursor", "query")]["required"] is False
    assert params[("cursor", "query")]["schema"]["type"] == "string"


def test_history_errors_are_the_routes_own(history_operation: dict[str, Any]) -> None:
    assert documented_errors(history_operation) == HISTORY_ERRORS
    assert {int(status) for status in history_operation["responses"]} == {status for status, _ in HISTORY_ERRORS} | {
        200
    }
    for status, response in history_operation["responses"].items():
        headers = {(name, spec["required"]) for name, spec in response.get("headers", {}).items()}
        assert headers == HISTORY_HEADERS.get(int(status), set()) | language_headers(status), status
        assert "Idempotency-Key" not in response["description"], "the history keeps nothing for replay"
    assert "query parameter" in history_operation["responses"]["400"]["description"]


def test_history_responses_use_their_schemas(history_operation: dict[str, Any]) -> None:
    for status, response in history_operation["responses"].items():
        expected = "HistoryResponse" if status == "200" else "ErrorResponse"
        assert response["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{expected}"}


def test_history_examples_match_their_schemas(document: dict[str, Any], history_operation: dict[str, Any]) -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    for status, response in history_operation["responses"].items():
        media = response["content"]["application/json"]
        validator = jsonschema_rs.validator_for({**media["schema"], "components": document["components"]})
        for value in media_examples(media):
            assert validator.is_valid(value), status
    params = {p["name"]: p for p in history_operation["parameters"]}
    for name, param in params.items():
        validator = jsonschema_rs.validator_for(param["schema"])
        assert validator.is_valid(param["example"]), name


def test_history_schema_describes_what_the_code_answers(document: dict[str, Any]) -> None:
    """A real answer, empty and full, with every kind of value a change can hold, fits the documented schema."""
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    validator = jsonschema_rs.validator_for(
        {"$ref": "#/components/schemas/HistoryResponse", "components": document["components"]}
    )
    entry = HistoryEntry(
        company_id="c",
        product_id="6650a1b2c3d4e5f6a7b8c9d0",
        version=7,
        changed_at=datetime(2026, 5, 1, tzinfo=UTC),
        changed_by=None,
        changes=(
            FieldChange(field="description", before="x", after=None),
            FieldChange(field="defaultFieldValues", before={}, after={"n": Decimal("1.5"), "l": [1, None, True]}),
            FieldChange(field="imageUrls", before=None, after=["https://cdn.example.com/a.jpg"]),
        ),
    )
    for page in (
        HistoryPage(entries=(), next_before_version=None),
        HistoryPage(entries=(entry,), next_before_version=7),
    ):
        body = json.loads(responses.history_outcome(page, entry.product_id).body)
        assert validator.is_valid(body), body
    assert not validator.is_valid({"items": []}), "nextCursor is always sent"


def test_history_parameter_schemas_agree_with_the_code(history_operation: dict[str, Any]) -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    params = {p["name"]: p["schema"] for p in history_operation["parameters"]}
    product_id = "6650a1b2c3d4e5f6a7b8c9d0"
    cursor_schema = jsonschema_rs.validator_for(params["cursor"])
    good = cursor.encode_cursor(product_id, 12345)
    assert cursor_schema.is_valid(good)
    assert cursor.decode_cursor(good, product_id) == 12345
    for bad in ("", "a b", "x" * (cursor.MAX_CURSOR_LENGTH + 1), good + "="):
        assert not cursor_schema.is_valid(bad), bad
    limit_schema = jsonschema_rs.validator_for(params["limit"])
    for limit in (0, 1, 20, 100, 101):
        accepted = True
        try:
            requests.parse_history_request({"limit": str(limit)}, product_id)
        except ValidationFailed:
            accepted = False
        assert limit_schema.is_valid(limit) == accepted, limit
    assert requests.parse_history_request({}, product_id).limit == params["limit"]["default"]


# --- GET /api/v1/products/{id} and GET /api/v1/products ----------------------------------------------------------


def test_read_operations(document: dict[str, Any]) -> None:
    get = document["paths"][PATH]["get"]
    listing = document["paths"]["/api/v1/products"]["get"]
    for operation in (get, listing):
        assert operation["security"] == [{"bearer": ["products:read"]}, {"bearer": ["products:write"]}]
        assert "requestBody" not in operation
    assert set(get["responses"]) == {"200", "304", "400", "401", "403", "404", "500", "503"}
    assert set(get["responses"]["304"]["headers"]) == {"ETag", "Cache-Control"}
    assert "If-None-Match" in {p["name"] for p in get["parameters"]}
    assert {p["name"] for p in listing["parameters"]} == {"limit", "cursor", "status", "model"}
    assert set(listing["responses"]) == {"200", "400", "401", "403", "500", "503"}
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProductListResponse"
    }
