"""What every route module shares: the schemas of `components/schemas` (the pydantic models' own), the `id` path
parameter, the Bearer scheme's name, and the error that stops the generation.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Mapping, Sequence
from typing import Any

from products_api.api import requests
from products_api.api.responses import ErrorResponse
from products_api.history.reader import HistoryResponse
from products_api.images.requests import UploadResponse
from products_api.limits.usage import UsageResponse
from products_api.products.models import ProductPatch
from products_api.products.reader import ProductListResponse
from products_api.products.responses import ProductResponse
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from products_api_local.openapi.examples import EXAMPLE_PRODUCT

SECURITY_SCHEME = "bearer"
SCHEMA_REF = "#/components/schemas/{model}"


class OpenApiError(RuntimeError):
    """The document cannot be generated: the code, the template and this package disagree."""


def component_schemas() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The `$ref` of each model, and `components/schemas`, from the models' own JSON schemas."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (ProductPatch, "validation"),
        (ProductResponse, "serialization"),
        (HistoryResponse, "serialization"),
        (UploadResponse, "serialization"),
        (ProductListResponse, "serialization"),
        (UsageResponse, "serialization"),
        (ErrorResponse, "serialization"),
    ]
    refs, definitions = models_json_schema(models, by_alias=True, ref_template=SCHEMA_REF)
    schemas: dict[str, Any] = definitions.get("$defs", {})
    patch_ref = refs[(ProductPatch, "validation")]["$ref"]
    describe_patch_semantics(schemas[patch_ref.rsplit("/", 1)[1]])
    return {model.__name__: refs[(model, mode)] for model, mode in models}, schemas


def _accepts_null(alias: str) -> bool:
    try:
        ProductPatch.model_validate({alias: None})
    except ValidationError:
        return False
    return True


def language_code_pattern() -> str:
    """A pattern matching exactly the two-letter codes `ProductPatch` accepts as `sourceLocale`, in any case.

    `^[A-Za-z]{2}$` would call `xx` valid, which the API refuses (unknown codes are refused). JSON Schema
    patterns have no case-insensitive flag, so each letter is spelt in both cases: `[Ee][Nn]`, grouped by first letter.
    """
    letters = string.ascii_lowercase
    accepted: dict[str, list[str]] = {}
    for first, second in itertools.product(letters, letters):
        try:
            ProductPatch.model_validate({"sourceLocale": first + second})
        except ValidationError:
            continue
        accepted.setdefault(first, []).append(second)
    if not accepted:
        raise OpenApiError("ProductPatch accepts no two-letter sourceLocale: is the language list missing?")
    groups = (
        f"[{first.upper()}{first}][{''.join(c.upper() + c for c in seconds)}]" for first, seconds in accepted.items()
    )
    return f"^(?:{'|'.join(groups)})$"


def describe_patch_semantics(schema: dict[str, Any]) -> None:
    """What pydantic cannot know about a PATCH body, made true to the model's behaviour.

    Every field of `ProductPatch` is typed `X | None = None` so that an omitted key can be told from a sent one; the
    generated schema therefore says `null` is accepted and is the default. Neither holds: an omitted key leaves the
    stored value alone (no default), and `null` is refused except where the model accepts it (`description`, which
    it clears). Both are decided by asking the model, so the document follows the code; so is the list of language
    codes `sourceLocale` accepts.
    """
    schema["properties"]["sourceLocale"]["pattern"] = language_code_pattern()
    for alias, prop in schema.get("properties", {}).items():
        prop.pop("default", None)
        branches = prop.get("anyOf")
        if branches is None or _accepts_null(alias):
            continue
        kept = [branch for branch in branches if branch != {"type": "null"}]
        del prop["anyOf"]
        if len(kept) == 1:
            merged = {**kept[0], **prop}
            prop.clear()
            prop.update(sorted(merged.items()))
        else:
            prop["anyOf"] = kept


def id_parameter() -> dict[str, Any]:
    """The `id` path parameter every product route shares."""
    return {
        "name": "id",
        "in": "path",
        "required": True,
        "description": "The product's id: a MongoDB-style ObjectId (24 hexadecimal characters, any case; "
        "answered in lower case).",
        "schema": {"type": "string", "pattern": f"^{requests.OBJECT_ID.pattern}$"},
        "example": EXAMPLE_PRODUCT.id,
    }


def operation_object(
    operation_id: str,
    summary: str,
    description: str,
    *,
    scopes: Sequence[str],
    responses: Mapping[str, Any],
    parameters: list[dict[str, Any]] | None = None,
    request_body: dict[str, Any] | None = None,
    tag: str = "products",
) -> dict[str, Any]:
    """An operation, its keys in the order every operation of the document shows them; a Bearer credential with any
    one of `scopes` may call it.
    """
    operation: dict[str, Any] = {
        "tags": [tag],
        "summary": summary,
        "description": description,
        "operationId": operation_id,
        "security": [{SECURITY_SCHEME: [scope]} for scope in scopes],
    }
    if parameters is not None:
        operation["parameters"] = parameters
    if request_body is not None:
        operation["requestBody"] = request_body
    operation["responses"] = dict(responses)
    return operation
