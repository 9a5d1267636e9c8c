"""PATCH /api/v1/products/{id}: route, parse, call the service, map the result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.entrypoint import caller, http_app, http_entrypoint, resolve_observed
from products_api.api.handler import admit_write, request_id, respond
from products_api.api.requests import parse_patch_request
from products_api.products.runtime import get_runtime

REQUIRED_SCOPE = "products:write"

app = http_app()


@app.patch("/api/v1/products/<product_id>")
def patch_product(product_id: str) -> Response[str]:
    runtime = get_runtime()
    principal = caller(app, runtime.authenticator, REQUIRED_SCOPE)
    event = app.current_event
    request = parse_patch_request(event.raw_event, event.headers, product_id)
    if request.patch.model_fields_set:
        # `{}` writes nothing: it is neither limited nor counted, and costs no limiter call
        admit_write(app, runtime.limiter, principal.company_id)
    outcome = runtime.patch_service.handle(principal, request, request_id(app))
    return respond(app, outcome)


@http_entrypoint
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime = get_runtime()
    runtime.patch_service.register_lambda_context(context)
    return resolve_observed(app, event, context, runtime.settings)
