"""API Gateway's side without HTTP, as the runner tests use it: the template's routes, a request, its event."""

from __future__ import annotations

from typing import Any

from products_api_local.apigateway.events import (
    ApiGateway,
    HttpRequest,
    build_event,
)
from products_api_local.apigateway.routes import (
    RouteMatch,
    RouteTable,
    routes_from_template,
)
from products_api_local.template.document import load_template

PRODUCT_PATH = "/api/v1/products/6650a1b2c3d4e5f6a7b8c9d0"
TEMPLATE = load_template()
ROUTES = RouteTable(routes_from_template(TEMPLATE))
LOCAL = ApiGateway(forwarded_port=3000)


def request(
    method: str = "PATCH",
    path: str = PRODUCT_PATH,
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> HttpRequest:
    return HttpRequest(method, path, query, headers or [("Host", "127.0.0.1:3000")], body, "127.0.0.1")


def local_event(http_request: HttpRequest) -> dict[str, Any]:
    match = ROUTES.match(http_request.method, http_request.raw_path)
    assert isinstance(match, RouteMatch), match
    return build_event(http_request, match, LOCAL)


def event_with_headers(*headers: tuple[str, str]) -> dict[str, Any]:
    """The event of a PATCH of the product path that sends `headers` (name, value), in order, repeats included."""
    return local_event(request(headers=list(headers)))
