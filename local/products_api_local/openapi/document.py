"""The whole document: info, servers, tags and the security scheme here; each route family's operations from its
own module (`update`, `history`, `images`, `usage`, `reading`), checked against template.yaml and the handlers.
"""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import OpenAPI
from pydantic import ValidationError

from products_api_local.openapi import history, images, reading, update, usage
from products_api_local.openapi.components import SECURITY_SCHEME, OpenApiError, component_schemas
from products_api_local.openapi.routes import check_routes, handler_module

OPENAPI_VERSION = "3.1.0"
TITLE = "Products API"
DISTRIBUTION = "products-api"

SERVERS: list[dict[str, Any]] = [
    {"url": "http://127.0.0.1:3000", "description": "local runner (make serve)"},
    {
        "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
        "description": "deployed stack: the stack output ApiUrl ($default stage)",
        "variables": {
            "apiId": {"default": "abcde12345", "description": "id of the stack's HttpApi (ProductsHttpApi)"},
            "region": {"default": "eu-west-1", "description": "AWS region of the stack"},
        },
    },
]

# The tags that group the operations, each with what a reader finds under it.
TAGS: list[dict[str, str]] = [
    {
        "name": "products",
        "description": "A company's products: change some of a product's fields (PATCH) and read the history of "
        "those changes (GET). Every operation needs a Bearer credential of the company that owns the product.",
    },
    {
        "name": "usage",
        "description": "The caller's company's metered writes, monthly quota and write rate. Writes over the rate "
        "answer 429 `rate_limited`, over the quota 429 `quota_exceeded`: wait `Retry-After` seconds.",
    },
]
# The project's licence (the LICENSE file at the root of the repository), by its SPDX identifier.
LICENSE = {"name": "MIT", "identifier": "MIT"}


def build_document() -> dict[str, Any]:
    """The whole document, deterministically: built in a fixed order from the code, template.yaml and this package."""
    check_routes(
        [
            (update.PATH, update.METHOD),
            (history.PATH, history.METHOD),
            *images.ROUTES,
            *reading.ROUTES,
            (usage.PATH, usage.METHOD),
        ]
    )
    scope = str(handler_module(update.HANDLER_FOLDER, update.HANDLER_MODULE).REQUIRED_SCOPE)
    read_scope = str(handler_module(history.HANDLER_FOLDER, history.HANDLER_MODULE).REQUIRED_SCOPE)
    refs, schemas = component_schemas()
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": TITLE,
            "version": importlib.metadata.version(DISTRIBUTION),
            "description": "Partial updates of products in a product catalogue, reading them, and the history of "
            "those updates. Every request and response body is "
            "JSON; every error is an `ErrorResponse` whose `code` is stable for programs and whose `error` is a "
            "human sentence, in English, Italian or German as the request's `Accept-Language` prefers (the answer's "
            "`Content-Language` says which). This document is generated from the code "
            "(`python -m products_api_local.openapi --write`).",
            "license": LICENSE,
        },
        "servers": SERVERS,
        "tags": TAGS,
        "paths": {
            update.PATH: {update.METHOD: update.operation(scope, refs)},
            history.PATH: {history.METHOD: history.operation(read_scope, refs)},
            **images.paths(scope, read_scope, refs),
            usage.PATH: {usage.METHOD: usage.operation(read_scope, refs)},
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`Authorization: Bearer <token>`, where the token is an API key (`tp_…`, "
                    "created with `products-api credentials create`) or an OAuth 2.0 access token. The credential "
                    f"must carry the operation's scope, `{scope}` to update and `{read_scope}` to read products (or "
                    f"`{scope}`) and the history (403 `insufficient_scope` otherwise); a missing, malformed, "
                    "unknown, revoked or expired credential answers 401 `unauthorized`. The credential also "
                    "decides the company whose products can be seen and changed.",
                }
            },
        },
    }
    read_paths = reading.read_paths(scope=read_scope, write_scope=scope, refs=refs)
    for path, operations in read_paths.items():
        # GET /api/v1/products/{id} shares its path with the PATCH
        document["paths"].setdefault(path, {}).update(operations)
    try:
        OpenAPI.model_validate(document)
    except ValidationError as exc:
        raise OpenApiError(f"the generated document is not OpenAPI: {exc}") from exc
    return document


def render(document: Mapping[str, Any]) -> str:
    """The file's text: the document's own key order, 2-space indent, UTF-8 as is, one trailing newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
