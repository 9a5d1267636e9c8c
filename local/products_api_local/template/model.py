"""template.yaml parsed once into the typed parts every local reader uses: the runner, the OpenAPI generator's route
check, the bench and the tests.

    template = LocalTemplate.load(region="eu-west-1")
    template.functions["UpdateProductFunction"].timeout_seconds, template.routes, template.stream_sources

Each part is read by the module that knows its rules (tables: `template.tables`, functions: `template.functions`,
routes: `apigateway.routes`, stream event sources: `streams.sources`); this model reads them all at once and checks
that they fit together (a route or a stream names a function that exists, a stream a table that exists).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from products_api_local.apigateway.routes import Route, RouteError, routes_from_template
from products_api_local.functions.context import DEFAULT_REGION
from products_api_local.streams.sources import StreamSource, StreamSourceError, stream_sources_from_template
from products_api_local.template.document import TemplateError, load_template, project_root
from products_api_local.template.functions import FunctionSpec, function_specs, local_table_names
from products_api_local.template.tables import TableDefinition, table_definitions


@dataclass(frozen=True)
class LocalTemplate:
    root: Path
    region: str
    # The document as plain data, intrinsic functions in their long form (for what no part models).
    document: Mapping[str, Any]
    tables: Mapping[str, TableDefinition]
    # Logical id -> the table's local physical name.
    table_names: Mapping[str, str]
    functions: Mapping[str, FunctionSpec]
    routes: tuple[Route, ...]
    stream_sources: tuple[StreamSource, ...]

    @classmethod
    def load(cls, path: Path | None = None, *, region: str = DEFAULT_REGION) -> LocalTemplate:
        """Read and check template.yaml (the checkout's unless `path`); TemplateError says what is wrong."""
        root = path.parent if path is not None else project_root()
        document = load_template(path)
        table_names = local_table_names(document)
        try:
            routes = tuple(routes_from_template(document))
            sources = tuple(stream_sources_from_template(document))
        except (RouteError, StreamSourceError) as exc:
            raise TemplateError(str(exc)) from None
        functions = function_specs(document, root, table_names, region)
        for route in routes:
            if route.function not in functions:
                raise TemplateError(f"template.yaml: route {route.route_key} names no function ({route.function})")
        for source in sources:
            if source.table not in table_names:
                raise TemplateError(f"template.yaml: {source.function} reads the stream of {source.table}, not a table")
        return cls(
            root=root,
            region=region,
            document=document,
            tables=table_definitions(document),
            table_names=table_names,
            functions=functions,
            routes=routes,
            stream_sources=sources,
        )

    def route_methods(self) -> list[tuple[str, str]]:
        """(path, lower-case method) of every HttpApi route, sorted: what the OpenAPI document must describe."""
        return sorted({(route.path, route.method.lower()) for route in self.routes})
