"""PATCH /api/v1/products/{id} in docs/openapi.json: its parameters, and every status, code and header of the error
table and of the API reference.

The expectations about statuses, codes and headers are the API reference's (docs/api.md), written out here on
purpose: the generator derives them from the code, so comparing the document with the code alone would not notice
the code and the document drifting from the contract together.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from openapi_support import documented_errors, language_headers, media_examples
from products_api.api import catalogue, requests

CONTRACT_ERRORS = {
    (400, "invalid_id"),
    (400, "invalid_json"),
    (400, "validation_error"),
    (400, "invalid_idempotency_key"),
    (401, "unauthorized"),
    (403, "insufficient_scope"),
    (404, "not_found"),
    (409, "duplicate_model"),
    (409, "idempotency_in_progress"),
    (412, "precondition_failed"),
    (413, "payload_too_large"),
    (415, "unsupported_media_type"),
    (422, "idempotency_key_reused"),
    (429, "rate_limited"),
    (503, "unavailable"),
}
# The headers the contract (and http.py) promise, by status: (name, always sent).
# Every answer of a write after the limiter ran may carry the RateLimit fields (not when the rate is unlimited).
_RATE = {("RateLimit", False), ("RateLimit-Policy", False)}
CONTRACT_HEADERS = {
    200: {("ETag", True), ("Idempotent-Replayed", False), *_RATE},
    401: {("WWW-Authenticate", True)},
    403: {("WWW-Authenticate", True)},
    404: {("Idempotent-Replayed", False), *_RATE},
    409: {("Retry-After", False), ("Idempotent-Replayed", False), *_RATE},
    412: {("ETag", False), ("Idempotent-Replayed", False), *_RATE},
    422: _RATE,
    429: {("Retry-After", True), *_RATE},
    500: _RATE,
    503: {("Retry-After", True), *_RATE},
}


def test_operation_basics(operation: dict[str, Any], document: dict[str, Any]) -> None:
    assert operation["operationId"] == "updateProduct"
    params = {(p["name"], p["in"]): p for p in operation["parameters"]}
    assert params[("id", "path")]["schema"]["pattern"] == "^[0-9a-fA-F]{24}$"
    assert params[("Idempotency-Key", "header")]["required"] is False
    assert params[("Idempotency-Key", "header")]["schema"]["format"] == "uuid"
    assert params[("If-Match", "header")]["required"] is False
    assert operation["security"] == [{"bearer": ["products:write"]}]
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert "tp_" in scheme["description"] and "OAuth" in scheme["description"]
    assert "products:write" in scheme["description"]
    assert operation["requestBody"]["required"] is True
    assert list(operation["requestBody"]["content"]) == ["application/json"]


def test_parameter_patterns_agree_with_the_code(operation: dict[str, Any]) -> None:
    params = {p["name"]: p["schema"].get("pattern") for p in operation["parameters"]}
    good = "6650a1b2c3d4e5f6a7b8c9d0"
    ids = [good, good.upper(), good[:-1], good[:-1] + "g", good + "0", " " + good]
    for product_id in ids:
        assert bool(re.fullmatch(params["id"], product_id)) == bool(requests.OBJECT_ID.fullmatch(product_id))
    keys = [str(uuid.uuid4()), str(uuid.uuid4()).upper(), str(uuid.uuid1()), "not-a-uuid", str(uuid.uuid4())[:-1]]
    for key in keys:
        assert bool(re.fullmatch(params["Idempotency-Key"], key)) == bool(requests.UUID4.fullmatch(key)), key


def test_idempotency_key_format_is_documented(operation: dict[str, Any]) -> None:
    (parameter,) = (p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert "UUID version 4" in parameter["description"]
    assert "invalid_idempotency_key" in parameter["description"]


# --- every status and code of the error table is documented ---------------------------------------------------


def test_every_error_of_the_code_is_documented(document: dict[str, Any]) -> None:
    table = {(spec.status, spec.code) for spec in catalogue.ERRORS.values()}
    table.add((catalogue.INTERNAL.status, catalogue.INTERNAL.code))
    documented = {
        error for item in document["paths"].values() for op in item.values() for error in documented_errors(op)
    }
    missing = table - documented
    assert not missing, f"error statuses/codes of products_api.api.requests not in the document: {sorted(missing)}"


def test_the_update_documents_no_history_code(operation: dict[str, Any]) -> None:
    assert (400, "invalid_cursor") not in documented_errors(operation)


def test_every_error_of_the_contract_is_documented(operation: dict[str, Any]) -> None:
    missing = CONTRACT_ERRORS - documented_errors(operation)
    assert not missing, f"error statuses/codes of the API reference not in the document: {sorted(missing)}"
    statuses = {status for status, _ in CONTRACT_ERRORS}
    assert {int(status) for status in operation["responses"]} == statuses | {200, 500}


def test_documented_codes_are_sent_or_marked_reserved(operation: dict[str, Any]) -> None:
    sent = {(spec.status, spec.code) for spec in catalogue.ERRORS.values()}
    sent.add((catalogue.INTERNAL.status, catalogue.INTERNAL.code))
    for status, code in documented_errors(operation) - sent:
        description = operation["responses"][str(status)]["description"]
        assert "not sent yet" in description, f"{status} {code} is documented but never sent"


def test_error_responses_use_the_error_schema(operation: dict[str, Any]) -> None:
    for status, response in operation["responses"].items():
        schema = response["content"]["application/json"]["schema"]
        expected = "ProductResponse" if status == "200" else "ErrorResponse"
        assert schema == {"$ref": f"#/components/schemas/{expected}"}, status


def test_response_headers_are_the_contract_ones(operation: dict[str, Any]) -> None:
    for status, response in operation["responses"].items():
        headers = {(name, spec["required"]) for name, spec in response.get("headers", {}).items()}
        assert headers == CONTRACT_HEADERS.get(int(status), set()) | language_headers(status), status


def test_examples_match_their_schemas(document: dict[str, Any], operation: dict[str, Any]) -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    media = [("request", operation["requestBody"]["content"]["application/json"])]
    media += [(status, r["content"]["application/json"]) for status, r in operation["responses"].items()]
    for where, item in media:
        validator = jsonschema_rs.validator_for({**item["schema"], "components": document["components"]})
        for value in media_examples(item):
            assert validator.is_valid(value), where
