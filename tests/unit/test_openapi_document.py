"""docs/openapi.json is valid OpenAPI 3.1 (Powertools' models, the OpenAPI Initiative's schema, JSON Schema 2020-12
schemas) and complete: every tag described, every reference resolved, every body with an example.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.openapi.models import OpenAPI
from openapi_support import PATH, media_examples, resolve, walk_refs
from support import ROOT

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


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
