"""PATCH /api/v1/products/{id}: route, parse, call the service, map the result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.handler import admit_write, answer_errors, request_id, respond
from products_api.api.observability import logger, metrics, observed_request, traced
from products_api.api.requests import parse_patch_request
from products_api.products.runtime import get_runtime

REQUIRED_SCOPE = "products:write"

app = APIGatewayHttpResolver()
answer_errors(app)


@app.patch("/api/v1/products/<product_id>")
def patch_product(product_id: str) -> Response[str]:
    runtime = get_runtime()
    event = app.current_event
    principal = runtime.authenticator.authenticate(event.headers.get("authorization"), REQUIRED_SCOPE)
    logger.append_keys(company_id=principal.company_id, credential_id=principal.credential_id)
    request = parse_patch_request(event.raw_event, event.headers, product_id)
    if request.patch.model_fields_set:
        # `{}` writes nothing: it is neither limited nor counted, and costs no limiter call
        admit_write(app, runtime.limiter, principal.company_id)
    outcome = runtime.patch_service.handle(principal, request, request_id(app))
    return respond(app, outcome)


# The event is never logged (log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says); the response body is product
# data and stays out of the trace. log_metrics flushes the request's metric even when the handler raises.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True)
@traced
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime = get_runtime()
    runtime.patch_service.register_lambda_context(context)
    with observed_request(event, runtime.settings) as request_log:
        app.append_context(request_log=request_log)  # type: ignore[no-untyped-call]  # untyped in Powertools
        return app.resolve(event, context)
