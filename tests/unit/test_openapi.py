"""docs/openapi.json: current, valid OpenAPI 3.1, and true to template.yaml, the error table and the request model.

The expectations about statuses, codes and headers are the API reference's (docs/api.md), written out here on
purpose: the generator derives them from the code, so comparing the document with the code alone would not notice
the code and the document drifting from the contract together.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import re
import string
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.openapi.models import OpenAPI
from products_api.api import catalogue, cursor, requests, responses
from products_api.errors import ValidationFailed
from products_api.history.store import HistoryEntry, HistoryPage
from products_api.products.fields import READ_ONLY_FIELDS
from products_api.products.models import ProductPatch
from products_api_local import openapi
from products_api_local.template.document import load_template
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.json"
PATH = "/api/v1/products/{id}"
HISTORY_PATH = "/api/v1/products/{id}/history"
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
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
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


def language_headers(status: str) -> set[tuple[str, bool]]:
    """Every error answers in the client's language and says which (Content-Language), varying on Accept-Language."""
    return {("Content-Language", True), ("Vary", True)} if int(status) >= 400 else set()


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def operation(document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][PATH]["patch"]
    return found


@pytest.fixture(scope="module")
def history_operation(document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][HISTORY_PATH]["get"]
    return found


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"only local references are expected: {ref}"
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def walk_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from walk_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk_refs(item)


def patch_schema(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    content = operation["requestBody"]["content"]
    schema: dict[str, Any] = resolve(document, content["application/json"]["schema"]["$ref"])
    return schema


def allows_null(schema: dict[str, Any]) -> bool:
    kinds = schema.get("type")
    if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
        return True
    return any(allows_null(branch) for key in ("anyOf", "oneOf") for branch in schema.get(key, []))


def model_accepts(body: Any) -> bool:
    try:
        ProductPatch.model_validate(body)
    except ValidationError:
        return False
    return True


# --- (a) the committed document is what the code generates ------------------------------------------------------


def test_committed_document_is_current() -> None:
    expected = openapi.render(openapi.build_document())
    committed = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.is_file() else ""
    if committed != expected:
        pytest.fail(
            f"docs/openapi.json is not what the code generates: run {openapi.WRITE_COMMAND}\n"
            + openapi._diff_summary(committed, expected, Path("docs/openapi.json"), limit=30)
        )


def test_generation_is_deterministic() -> None:
    assert openapi.render(openapi.build_document()) == openapi.render(openapi.build_document())


def test_check_and_write_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "openapi.json"
    assert openapi.main(["--check", "--file", str(target)]) == 1
    assert openapi.main(["--write", "--file", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.splitlines()[1].startswith('  "openapi"'), "2-space indent"
    assert openapi.main(["--check", "--file", str(target)]) == 0

    target.write_text(text.replace('"updateProduct"', '"patchProduct"'), encoding="utf-8")
    capsys.readouterr()
    assert openapi.main(["--check", "--file", str(target)]) == 1
    err = capsys.readouterr().err
    assert openapi.WRITE_COMMAND in err and '-        "operationId": "patchProduct",' in err


# --- (b) valid OpenAPI 3.1 --------------------------------------------------------------------------------------


def media_examples(media: dict[str, Any]) -> list[Any]:
    """The example values of a media type object: its `example`, or every one of its named `examples`."""
    if "example" in media:
        return [media["example"]]
    return [example["value"] for example in media.get("examples", {}).values()]


def test_every_tag_is_described_and_used(document: dict[str, Any]) -> None:
    tags = {tag["name"]: tag for tag in document["tags"]}
    assert all(tag.get("description", "").strip() for tag in tags.values())
    used = {tag for item in document["paths"].values() for op in item.values() for tag in op["tags"]}
    assert used == set(tags)


def test_the_license_is_the_repository_one(document: dict[str, Any]) -> None:
    assert document["info"]["license"] == {"name": "MIT", "identifier": "MIT"}
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_every_request_body_and_response_has_an_example(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, op in item.items():
            bodies = [("request", op["requestBody"])] if "requestBody" in op else []
            for where, body in [*bodies, *op["responses"].items()]:
                # a 304 has no body to show
                for media_type, media in body.get("content", {}).items():
                    assert media_examples(media), f"{method} {path} {where} {media_type}"


def test_every_error_code_has_its_own_example(document: dict[str, Any]) -> None:
    """Each error status shows one body per `code` its description lists, under that code's name."""
    for path, item in document["paths"].items():
        for method, op in item.items():
            for status, response in op["responses"].items():
                if status.startswith(("2", "3")):
                    continue
                listed = re.findall(r"^(?:- )?`([a-z_]+)`:|`code` is `([a-z_]+)`", response["description"], re.M)
                codes = {a or b for a, b in listed}
                examples = response["content"]["application/json"]["examples"]
                assert set(examples) == codes, f"{method} {path} {status}"
                for code, example in examples.items():
                    assert example["value"]["code"] == code
                    assert example["value"]["error"] and example["value"]["error"] != "Sample"


def test_document_structure(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "Products API"
    assert document["info"]["version"] == importlib.metadata.version("products-api")
    assert [server["url"] for server in document["servers"]] == [
        "http://127.0.0.1:3000",
        "https://{apiId}.execute-api.{region}.amazonaws.com",
    ]
    for server in document["servers"]:
        for variable in re.findall(r"\{([^}]+)\}", server["url"]):
            assert "default" in server["variables"][variable], f"server variable {variable} needs a default"
    # Powertools' own OpenAPI models parse it.
    OpenAPI.model_validate(document)


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = set(walk_refs(document))
    assert "#/components/schemas/ErrorResponse" in refs
    for ref in refs:
        resolve(document, ref)


def test_every_operation_is_complete(document: dict[str, Any]) -> None:
    operation_ids = []
    schemes = document["components"]["securitySchemes"]
    for path, item in document["paths"].items():
        placeholders = set(re.findall(r"\{([^}]+)\}", path))
        for method, operation in item.items():
            assert method in HTTP_METHODS
            operation_ids.append(operation["operationId"])
            path_params = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert path_params == placeholders, f"{method} {path}: path parameters {path_params}"
            assert all(p["required"] for p in operation.get("parameters", []) if p["in"] == "path")
            names = [(p["name"].lower(), p["in"]) for p in operation.get("parameters", [])]
            assert len(names) == len(set(names)), "a parameter is declared twice"
            assert "authorization" not in {name for name, _ in names}, "Authorization belongs to the security scheme"
            for requirement in operation["security"]:
                assert requirement.keys() <= schemes.keys()
            for status, response in operation["responses"].items():
                assert re.fullmatch(r"[1-5][0-9][0-9]", status)
                assert response["description"].strip()
                # a 304 has no body (RFC 9110); every other answer is JSON
                assert list(response.get("content", {})) == ([] if status == "304" else ["application/json"])
    assert len(operation_ids) == len(set(operation_ids))


def test_schemas_are_json_schema_2020_12(document: dict[str, Any]) -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    for name, schema in document["components"]["schemas"].items():
        try:
            jsonschema_rs.meta.validate(schema)
        except jsonschema_rs.ValidationError as exc:
            pytest.fail(f"components/schemas/{name} is not a JSON Schema 2020-12 schema: {exc}")


def test_document_passes_the_openapi_3_1_schema(document: dict[str, Any]) -> None:
    # The OpenAPI Initiative's JSON schema of 3.1 documents, as bundled (and applied) by schemathesis.
    schemathesis = pytest.importorskip("schemathesis")
    schemathesis.openapi.from_dict(document).validate()


def test_the_openapi_3_1_schema_check_can_fail(document: dict[str, Any]) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    broken = json.loads(json.dumps(document))
    del broken["paths"][PATH]["patch"]["responses"]["200"]["description"]
    with pytest.raises(Exception, match="description"):
        schemathesis.openapi.from_dict(broken).validate()


# --- (c) the routes are template.yaml's -------------------------------------------------------------------------


def test_paths_are_the_template_http_api_events(document: dict[str, Any]) -> None:
    events = set()
    for resource in load_template()["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            for event in (resource["Properties"].get("Events") or {}).values():
                if event["Type"] == "HttpApi":
                    events.add((event["Properties"]["Path"], event["Properties"]["Method"].lower()))
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == events
    assert events == {
        (PATH, "patch"),
        (HISTORY_PATH, "get"),
        (PATH, "get"),
        ("/api/v1/products", "get"),
        ("/api/v1/products/{id}/images", "post"),
        ("/api/v1/products/{id}/images/uploads", "post"),
        ("/api/v1/products/{id}/images/uploads/{uploadId}", "get"),
        ("/api/v1/usage", "get"),
    }


def test_paths_are_the_handler_routes(document: dict[str, Any]) -> None:
    documented = {(openapi.route_shape(path), method) for path, item in document["paths"].items() for method in item}
    assert documented == {(openapi.route_shape(path), method) for path, method in openapi.handler_routes()}


def test_a_route_mismatch_stops_the_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openapi, "PATH", "/api/v1/products/{productId}")
    with pytest.raises(openapi.OpenApiError, match=r"template\.yaml"):
        openapi.build_document()


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


# --- (d) every status and code of the error table is documented -------------------------------------------------


def documented_errors(operation: dict[str, Any]) -> set[tuple[int, str]]:
    found = set()
    for status, response in operation["responses"].items():
        for code in re.findall(r"`([a-z_]+)`: ", response["description"]):
            found.add((int(status), code))
    return found


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


def test_reserved_codes_are_not_sent_yet() -> None:
    # A code the code sends is no longer reserved (rate limiting landed: RESERVED is empty now).
    sent = {spec.code for spec in catalogue.ERRORS.values()}
    assert not sent & {item.code for item in openapi.RESERVED}


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


# --- (e) the request body schema refuses what the contract refuses ----------------------------------------------


def test_request_schema_constraints(document: dict[str, Any], operation: dict[str, Any]) -> None:
    schema = patch_schema(document, operation)
    props = schema["properties"]
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert not schema.get("required"), "every field is optional"
    assert set(props) == {"name", "model", "description", "defaultFieldValues", "imageUrls", "status", "sourceLocale"}
    assert not READ_ONLY_FIELDS & set(props)
    assert (props["name"]["type"], props["name"]["minLength"], props["name"]["maxLength"]) == ("string", 1, 200)
    assert (props["model"]["type"], props["model"]["minLength"], props["model"]["maxLength"]) == ("string", 1, 100)
    assert props["imageUrls"]["type"] == "array" and props["imageUrls"]["maxItems"] == 20
    assert props["imageUrls"]["items"]["type"] == "string"
    assert props["status"]["enum"] == ["active", "archived"]
    assert props["defaultFieldValues"]["type"] == "object"
    assert props["sourceLocale"]["type"] == "string"
    description = props["description"]["anyOf"]
    assert {"type": "null"} in description
    assert [branch.get("maxLength") for branch in description if branch.get("type") == "string"] == [2000]
    for name, prop in props.items():
        assert "default" not in prop, f"{name}: an omitted key is left alone, there is no default"
        assert allows_null(prop) == (name == "description"), f"{name}: only description accepts null"


def test_request_schema_nullability_is_the_model_behaviour(document: dict[str, Any], operation: dict[str, Any]) -> None:
    for name, prop in patch_schema(document, operation)["properties"].items():
        assert allows_null(prop) == model_accepts({name: None}), name


VALID_BODIES: list[Any] = [
    {},
    {"name": "Li-Ion 48V Battery Pack", "model": "LI-48V-20AH"},
    {"name": "x" * 200, "model": "m" * 100},
    {"description": None},
    {"description": "d" * 2000},
    {"defaultFieldValues": {}},
    {"defaultFieldValues": {"chemistry": "NMC", "capacityWh": 960, "nested": {"list": [1, "a", None]}}},
    {"imageUrls": []},
    {"imageUrls": [f"https://cdn.example.com/{n}.jpg" for n in range(20)]},
    {"status": "archived"},
    {"sourceLocale": "en"},
    {"sourceLocale": "DE"},
]
INVALID_BODIES: list[Any] = [
    {"name": "   "},
    {"model": "a\u0000b"},
    {"description": "a\u0007b"},
    {"imageUrls": ["https://cdn.example.com/a.jpg"] * 2},
    {"imageUrls": ["cdn.example.com/a.jpg"]},
    {"imageUrls": ["https:cdn.example.com/a.jpg"]},
    {"imageUrls": ["https://cdn.example.com/" + "a" * 2048]},
    {"sourceLocale": "1_"},
    [],
    "name",
    None,
    {"name": None},
    {"name": ""},
    {"name": "x" * 201},
    {"model": None},
    {"model": "m" * 101},
    {"description": "d" * 2001},
    {"defaultFieldValues": None},
    {"defaultFieldValues": []},
    {"imageUrls": None},
    {"imageUrls": "https://cdn.example.com/a.jpg"},
    {"imageUrls": [f"https://cdn.example.com/{n}.jpg" for n in range(21)]},
    {"imageUrls": [1]},
    {"status": None},
    {"status": "deleted"},
    {"sourceLocale": None},
    {"sourceLocale": "eng"},
    # Two letters, but no ISO 639-1 language: the fuzzer's valid cases sent these, and the API refused them.
    {"sourceLocale": "xx"},
    {"sourceLocale": "WX"},
    {"colour": "red"},
    *({name: "x"} for name in sorted(READ_ONLY_FIELDS)),
]


@pytest.fixture(scope="module")
def patch_validator(document: dict[str, Any], operation: dict[str, Any]) -> Any:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    ref = operation["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema_rs.validator_for({**ref, "components": document["components"]})


@pytest.mark.parametrize("body", VALID_BODIES, ids=lambda body: json.dumps(body)[:40])
def test_request_schema_accepts_what_the_api_accepts(patch_validator: Any, body: Any) -> None:
    assert model_accepts(body), "the example itself is wrong"
    assert patch_validator.is_valid(body)


@pytest.mark.parametrize("body", INVALID_BODIES, ids=lambda body: json.dumps(body)[:40])
def test_request_schema_refuses_what_the_api_refuses(patch_validator: Any, body: Any) -> None:
    assert not model_accepts(body), "the example itself is wrong"
    assert not patch_validator.is_valid(body)


def test_source_locale_pattern_accepts_exactly_the_languages_the_api_accepts(patch_validator: Any) -> None:
    letters = string.ascii_lowercase
    disagreements = []
    for code in (first + second for first, second in itertools.product(letters, letters)):
        for spelling in (code, code.upper(), code[0].upper() + code[1]):
            body = {"sourceLocale": spelling}
            if patch_validator.is_valid(body) != model_accepts(body):
                disagreements.append(spelling)
    assert not disagreements, f"the document and the API disagree on {disagreements[:10]}"


# --- (f) GET /api/v1/products/{id}/history ------------------------------------------------------------------------


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
    from datetime import UTC, datetime
    from decimal import Decimal

    from products_api.history.store import FieldChange

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


def test_idempotency_key_format_is_documented(operation: dict[str, Any]) -> None:
    (parameter,) = (p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert "UUID version 4" in parameter["description"]
    assert "invalid_idempotency_key" in parameter["description"]
