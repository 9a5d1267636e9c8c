"""The document's routes against the two other places that name them: template.yaml's HttpApi events and the
handlers' own routes (`HttpRoutes.declared()`), paths and parameter names included.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from products_api_local.functions.loader import import_function_module
from products_api_local.openapi import history, images, reading, update, usage
from products_api_local.openapi.components import OpenApiError
from products_api_local.template.document import project_root
from products_api_local.template.model import LocalTemplate

# (folder, module) of each function that serves a documented route, as template.yaml's CodeUri and Handler name them.
HANDLERS: tuple[tuple[Path, str], ...] = (
    (update.HANDLER_FOLDER, update.HANDLER_MODULE),
    (history.HANDLER_FOLDER, history.HANDLER_MODULE),
    (images.HANDLER_FOLDER, images.HANDLER_MODULE),
    (reading.HANDLER_FOLDER, reading.HANDLER_MODULE),
    (usage.HANDLER_FOLDER, usage.HANDLER_MODULE),
)


def handler_module(folder: Path, name: str) -> ModuleType:
    """A function's module, imported from its folder as Lambda does."""
    return import_function_module(project_root() / folder, name)


def handler_routes() -> list[tuple[str, str]]:
    """(path, lower-case method) of the handlers' routes, path parameters as `{name}`, sorted."""
    routes: list[tuple[str, str]] = []
    for folder, name in HANDLERS:
        routes += handler_module(folder, name).routes.declared()
    return sorted(routes)


def route_shape(path: str) -> str:
    """A path with its parameter names dropped: `/a/{id}` and `/a/{product_id}` are the same route."""
    return re.sub(r"\{[^}/]*\}", "{}", path)


def check_routes(document_routes: Sequence[tuple[str, str]]) -> None:
    """The document's routes are the template's and the handlers', names included."""
    template = LocalTemplate.load().route_methods()
    if sorted(document_routes) != template:
        raise OpenApiError(
            f"the document describes {sorted(document_routes)} but template.yaml's HttpApi events are {template}: "
            "describe the new routes in products_api_local.openapi"
        )
    handler = handler_routes()
    if handler != template:
        raise OpenApiError(f"the handlers route {handler} but template.yaml's HttpApi events are {template}")
