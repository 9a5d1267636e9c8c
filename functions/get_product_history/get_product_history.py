"""GET /api/v1/products/{id}/history: route, parse, call the reader, map the result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.errors import DomainError
from products_api.history_runtime import get_history_runtime
from products_api.http import Outcome, error_outcome, history_outcome, parse_history_request
from products_api.observability import HISTORY_READ, RequestLog, logger, metrics, observed_request, tracer

REQUIRED_SCOPE = "products:read"

app = APIGatewayHttpResolver()


def _respond(outcome: Outcome, error: Exception | None = None) -> Response[str]:
    request_log: RequestLog = app.context["request_log"]
    request_log.answered(outcome, error)
    return Response(status_code=outcome.status_code, body=outcome.body, headers=outcome.response_headers())


def _request_id() -> str:
    return str(app.current_event.request_context.request_id)


@app.get("/api/v1/products/<product_id>/history")
def get_product_history(product_id: str) -> Response[str]:
    runtime = get_history_runtime()
    event = app.current_event
    principal = runtime.authenticator.authenticate(event.headers.get("authorization"), REQUIRED_SCOPE)
    logger.append_keys(company_id=principal.company_id, credential_id=principal.credential_id)
    request = parse_history_request(event.query_string_parameters, product_id)
    page = runtime.reader.page(principal.company_id, request.product_id, request.limit, request.before_version)
    return _respond(history_outcome(page, request.product_id))


@app.exception_handler(DomainError)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
def _domain_error(exc: DomainError) -> Response[str]:
    return _respond(error_outcome(exc, _request_id()), exc)


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _unexpected_error(exc: Exception) -> Response[str]:
    return _respond(error_outcome(exc, _request_id()), exc)


# As the update function: the event is never logged, the response body stays out of the trace, and the request's
# metric is flushed even when the handler raises.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with observed_request(event, get_history_runtime().settings, success_metric=HISTORY_READ) as request_log:
        app.append_context(request_log=request_log)  # type: ignore[no-untyped-call]  # untyped in Powertools
        return app.resolve(event, context)
