"""GET /api/v1/usage: route, authenticate, read the company's usage, map the result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.handler import answer_errors, respond
from products_api.api.observability import USAGE_READ, logger, metrics, observed_request, traced
from products_api.api.responses import Outcome
from products_api.errors import FieldProblem, ValidationFailed
from products_api.limits.usage import get_usage_runtime

REQUIRED_SCOPE = "products:read"

app = APIGatewayHttpResolver()
answer_errors(app)


@app.get("/api/v1/usage")
def get_usage() -> Response[str]:
    runtime = get_usage_runtime()
    event = app.current_event
    principal = runtime.authenticator.authenticate(event.headers.get("authorization"), REQUIRED_SCOPE)
    logger.append_keys(company_id=principal.company_id, credential_id=principal.credential_id)
    unknown = sorted(event.query_string_parameters or {})
    if unknown:
        # the route takes no parameter: a misspelt one is refused rather than ignored
        raise ValidationFailed([FieldProblem(field=name, message="unknown query parameter") for name in unknown])
    usage = runtime.reader.usage(principal.company_id)
    # the count grows with every write: no cache may keep it
    return respond(app, Outcome(200, usage.to_json(), {"Cache-Control": "no-store"}))


# As the other HTTP functions: the event is never logged, the response body stays out of the trace, and the request's
# metric is flushed even when the handler raises.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True)
@traced
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with observed_request(event, get_usage_runtime().settings, success_metric=USAGE_READ) as request_log:
        app.append_context(request_log=request_log)  # type: ignore[no-untyped-call]  # untyped in Powertools
        return app.resolve(event, context)
