"""GET /api/v1/products/{id}/history: route, parse, call the reader, map the result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.entrypoint import caller, http_app, http_entrypoint, resolve_observed
from products_api.api.handler import respond
from products_api.api.observability import HISTORY_READ
from products_api.api.requests import parse_history_request
from products_api.api.responses import history_outcome
from products_api.history.runtime import get_history_runtime

REQUIRED_SCOPE = "products:read"

app = http_app()


@app.get("/api/v1/products/<product_id>/history")
def get_product_history(product_id: str) -> Response[str]:
    runtime = get_history_runtime()
    principal = caller(app, runtime.authenticator, REQUIRED_SCOPE)
    request = parse_history_request(app.current_event.query_string_parameters, product_id)
    page = runtime.reader.page(principal.company_id, request.product_id, request.limit, request.before_version)
    return respond(app, history_outcome(page, request.product_id))


@http_entrypoint
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve_observed(app, event, context, get_history_runtime().settings, HISTORY_READ)
