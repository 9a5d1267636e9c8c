"""What the tests of docs/openapi.json share: where it is, JSON pointers and references, the error codes an
operation's descriptions list, and whether the request model accepts a body (tests/unit/test_openapi_*.py; the
`document`, `operation` and `history_operation` fixtures are in tests/unit/conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from products_api.products.models import ProductPatch
from pydantic import ValidationError
from support import ROOT

DOCUMENT = ROOT / "docs" / "openapi.json"
PATH = "/api/v1/products/{id}"
HISTORY_PATH = "/api/v1/products/{id}/history"


def language_headers(status: str) -> set[tuple[str, bool]]:
    """Every error answers in the client's language and says which (Content-Language), varying on Accept-Language."""
    return {("Content-Language", True), ("Vary", True)} if int(status) >= 400 else set()


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


def media_examples(media: dict[str, Any]) -> list[Any]:
    """The example values of a media type object: its `example`, or every one of its named `examples`."""
    if "example" in media:
        return [media["example"]]
    return [example["value"] for example in media.get("examples", {}).values()]


def documented_errors(operation: dict[str, Any]) -> set[tuple[int, str]]:
    found = set()
    for status, response in operation["responses"].items():
        for code in re.findall(r"`([a-z_]+)`: ", response["description"]):
            found.add((int(status), code))
    return found
