"""PATCH /api/v1/products/{id}: route, parse, call the service, map the result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.handler import HttpRequest, HttpRoutes
from products_api.api.observability import PRODUCT_UPDATED, traced
from products_api.api.requests import parse_patch_request
from products_api.api.responses import Outcome
from products_api.auth.credentials import Principal
from products_api.products.runtime import get_runtime

REQUIRED_SCOPE = "products:write"

# the runtime is looked up at each request, through this module's name (a test hands in its own by replacing it)
routes = HttpRoutes(lambda: get_runtime())


@routes.route("PATCH", "/api/v1/products/{id}", scopes=(REQUIRED_SCOPE,), success_metric=PRODUCT_UPDATED)
def patch_product(request: HttpRequest, caller: Principal) -> Outcome:
    runtime = get_runtime()
    patch = parse_patch_request(request.event, request.headers, request.path_parameters["id"])
    if patch.patch.model_fields_set:
        # `{}` writes nothing: it is neither limited nor counted, and costs no limiter call
        request.admit_write(runtime.limiter, caller.company_id)
    return runtime.patch_service.handle(caller, patch, request.request_id)


# The event is never logged and the response body (product data) stays out of the trace; the request's log line and
# metric are written when it ends, even when the handler raises (HttpRoutes.serve).
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    get_runtime().patch_service.register_lambda_context(context)
    return routes.serve(event, context)
