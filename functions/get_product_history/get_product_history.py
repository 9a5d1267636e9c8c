"""GET /api/v1/products/{id}/history: route, parse, call the reader, map the result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.handler import HttpRequest, HttpRoutes
from products_api.api.observability import HISTORY_READ, traced
from products_api.api.requests import parse_history_request
from products_api.api.responses import Outcome, history_outcome
from products_api.auth.credentials import Principal
from products_api.history.runtime import get_history_runtime

REQUIRED_SCOPE = "products:read"

# the runtime is looked up at each request, through this module's name (a test hands in its own by replacing it)
routes = HttpRoutes(lambda: get_history_runtime())


@routes.route("GET", "/api/v1/products/{id}/history", scopes=(REQUIRED_SCOPE,), success_metric=HISTORY_READ)
def get_product_history(request: HttpRequest, caller: Principal) -> Outcome:
    query = parse_history_request(request.query, request.path_parameters["id"])
    page = get_history_runtime().reader.page(caller.company_id, query.product_id, query.limit, query.before_version)
    return history_outcome(page, query.product_id)


# As the update function: the event is never logged, the response body stays out of the trace, and the request's
# log line and metric are written even when the handler raises.
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return routes.serve(event, context)
