"""GET /api/v1/products/{id} and GET /api/v1/products: route, parse, call the reader, map the result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.entrypoint import caller, http_app, http_entrypoint, resolve_observed
from products_api.api.handler import respond
from products_api.api.observability import PRODUCT_READ
from products_api.api.reading import parse_list_request, product_list_outcome, product_read_outcome
from products_api.api.requests import product_id_from_path
from products_api.products.read_runtime import get_read_runtime

REQUIRED_SCOPE = "products:read"
# a credential that may change products may read them too
ALSO_ACCEPTED_SCOPES = ("products:write",)

app = http_app()


@app.get("/api/v1/products/<product_id>")
def get_product(product_id: str) -> Response[str]:
    runtime = get_read_runtime()
    principal = caller(app, runtime.authenticator, REQUIRED_SCOPE, *ALSO_ACCEPTED_SCOPES)
    product = runtime.reader.get(principal.company_id, product_id_from_path(product_id))
    return respond(app, product_read_outcome(product, app.current_event.headers.get("if-none-match")))


@app.get("/api/v1/products")
def list_products() -> Response[str]:
    runtime = get_read_runtime()
    principal = caller(app, runtime.authenticator, REQUIRED_SCOPE, *ALSO_ACCEPTED_SCOPES)
    request = parse_list_request(app.current_event.query_string_parameters, principal.company_id)
    if request.model is not None:
        page = runtime.reader.by_model(principal.company_id, request.model, request.status)
    else:
        page = runtime.reader.page(principal.company_id, request.limit, request.after_id, request.status)
    return respond(app, product_list_outcome(page, principal.company_id, request.status))


@http_entrypoint
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve_observed(app, event, context, get_read_runtime().settings, PRODUCT_READ)
