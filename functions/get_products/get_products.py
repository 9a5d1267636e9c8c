"""GET /api/v1/products/{id} and GET /api/v1/products: route, parse, call the reader, map the result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.handler import HttpRequest, HttpRoutes
from products_api.api.observability import PRODUCT_READ, traced
from products_api.api.reading import parse_list_request, product_list_outcome, product_read_outcome
from products_api.api.requests import product_id_from_path
from products_api.api.responses import Outcome
from products_api.auth.credentials import Principal
from products_api.products.read_runtime import get_read_runtime

# products:read, or products:write: a credential that may change products may read them too
READ_SCOPES = ("products:read", "products:write")

# the runtime is looked up at each request, through this module's name (a test hands in its own by replacing it)
routes = HttpRoutes(lambda: get_read_runtime())


@routes.route("GET", "/api/v1/products/{id}", scopes=READ_SCOPES, success_metric=PRODUCT_READ)
def get_product(request: HttpRequest, caller: Principal) -> Outcome:
    product_id = product_id_from_path(request.path_parameters["id"])
    product = get_read_runtime().reader.get(caller.company_id, product_id)
    return product_read_outcome(product, request.headers.get("if-none-match"))


@routes.route("GET", "/api/v1/products", scopes=READ_SCOPES, success_metric=PRODUCT_READ)
def list_products(request: HttpRequest, caller: Principal) -> Outcome:
    reader = get_read_runtime().reader
    query = parse_list_request(request.query, caller.company_id)
    if query.model is not None:
        page = reader.by_model(caller.company_id, query.model, query.status)
    else:
        page = reader.page(caller.company_id, query.limit, query.after_id, query.status)
    return product_list_outcome(page, caller.company_id, query.status)


# As the other HTTP functions: the event is never logged, the response body stays out of the trace, and the
# request's log line and metric are written even when the handler raises.
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return routes.serve(event, context)
