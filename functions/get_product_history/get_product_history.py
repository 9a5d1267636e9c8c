"""GET /api/v1/products/{id}/history: route, parse, call the reader, map the result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.handler import answer_errors, respond
from products_api.api.observability import HISTORY_READ, logger, metrics, observed_request, traced
from products_api.api.requests import parse_history_request
from products_api.api.responses import history_outcome
from products_api.history.runtime import get_history_runtime

REQUIRED_SCOPE = "products:read"

app = APIGatewayHttpResolver()
answer_errors(app)


@app.get("/api/v1/products/<product_id>/history")
def get_product_history(product_id: str) -> Response[str]:
    runtime = get_history_runtime()
    event = app.current_event
    principal = runtime.authenticator.authenticate(event.headers.get("authorization"), REQUIRED_SCOPE)
    logger.append_keys(company_id=principal.company_id, credential_id=principal.credential_id)
    request = parse_history_request(event.query_string_parameters, product_id)
    page = runtime.reader.page(principal.company_id, request.product_id, request.limit, request.before_version)
    return respond(app, history_outcome(page, request.product_id))


# As the update function: the event is never logged, the response body stays out of the trace, and the request's
# metric is flushed even when the handler raises.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True)
@traced
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with observed_request(event, get_history_runtime().settings, success_metric=HISTORY_READ) as request_log:
        app.append_context(request_log=request_log)  # type: ignore[no-untyped-call]  # untyped in Powertools
        return app.resolve(event, context)
