"""The PATCH body's schema in docs/openapi.json refuses what the API refuses and accepts what it accepts, down to
the language codes of `sourceLocale`, and says `null` only where the request model takes it.
"""

from __future__ import annotations

import itertools
import json
import string
from typing import Any

import pytest
from openapi_support import allows_null, model_accepts, patch_schema
from products_api.products.fields import READ_ONLY_FIELDS


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
