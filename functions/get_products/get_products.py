"""GET /api/v1/products/{id} and GET /api/v1/products: route, parse, call the reader, map the result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.handler import answer_errors, respond
from products_api.api.observability import PRODUCT_READ, logger, metrics, observed_request, traced
from products_api.api.reading import parse_list_request, product_list_outcome, product_read_outcome
from products_api.api.requests import product_id_from_path
from products_api.products.read_runtime import get_read_runtime

REQUIRED_SCOPE = "products:read"
# a credential that may change products may read them too
ALSO_ACCEPTED_SCOPES = ("products:write",)

app = APIGatewayHttpResolver()
answer_errors(app)


@app.get("/api/v1/products/<product_id>")
def get_product(product_id: str) -> Response[str]:
    runtime = get_read_runtime()
    event = app.current_event
    principal = runtime.authenticator.authenticate(
        event.headers.get("authorization"), REQUIRED_SCOPE, *ALSO_ACCEPTED_SCOPES
    )
    logger.append_keys(company_id=principal.company_id, credential_id=principal.credential_id)
    product = runtime.reader.get(principal.company_id, product_id_from_path(product_id))
    return respond(app, product_read_outcome(product, event.headers.get("if-none-match")))


@app.get("/api/v1/products")
def list_products() -> Response[str]:
    runtime = get_read_runtime()
    event = app.current_event
    principal = runtime.authenticator.authenticate(
        event.headers.get("authorization"), REQUIRED_SCOPE, *ALSO_ACCEPTED_SCOPES
    )
    logger.append_keys(company_id=principal.company_id, credential_id=principal.credential_id)
    request = parse_list_request(event.query_string_parameters, principal.company_id)
    if request.model is not None:
        page = runtime.reader.by_model(principal.company_id, request.model, request.status)
    else:
        page = runtime.reader.page(principal.company_id, request.limit, request.after_id, request.status)
    return respond(app, product_list_outcome(page, principal.company_id, request.status))


# As the other HTTP functions: the event is never logged, the response body stays out of the trace, and the
# request's metric is flushed even when the handler raises.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True)
@traced
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with observed_request(event, get_read_runtime().settings, success_metric=PRODUCT_READ) as request_log:
        app.append_context(request_log=request_log)  # type: ignore[no-untyped-call]  # untyped in Powertools
        return app.resolve(event, context)
