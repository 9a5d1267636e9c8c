"""GET /api/v1/usage: route, authenticate, read the company's usage, map the result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.handler import HttpRequest, HttpRoutes
from products_api.api.observability import USAGE_READ, traced
from products_api.api.responses import Outcome
from products_api.auth.credentials import Principal
from products_api.errors import FieldProblem, ValidationFailed
from products_api.limits.usage import get_usage_runtime

# the runtime is looked up at each request, through this module's name (a test hands in its own by replacing it)
routes = HttpRoutes(lambda: get_usage_runtime())


@routes.route("GET", "/api/v1/usage", scopes=("products:read",), success_metric=USAGE_READ)
def get_usage(request: HttpRequest, caller: Principal) -> Outcome:
    unknown = sorted(request.query)
    if unknown:
        # the route takes no parameter: a misspelt one is refused rather than ignored
        raise ValidationFailed([FieldProblem(field=name, message="unknown query parameter") for name in unknown])
    usage = get_usage_runtime().reader.usage(caller.company_id)
    # the count grows with every write: no cache may keep it
    return Outcome(200, usage.to_json(), {"Cache-Control": "no-store"})


# As the other HTTP functions: the event is never logged, the response body stays out of the trace, and the request's
# log line and metric are written even when the handler raises.
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return routes.serve(event, context)
