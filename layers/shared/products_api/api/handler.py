"""What the HTTP functions' handlers share: answering through the request log, and one pair of exception handlers.

Each handler stays route, parse, call, map; how an answer is recorded for the log line and the metric, and how an
exception becomes a response, is written once here.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from products_api.api.observability import RequestLog
from products_api.api.responses import Outcome, error_outcome
from products_api.errors import DomainError
from products_api.limits.limiter import WriteLimiter

RATE_LIMIT_CONTEXT_KEY = "rate_limit_headers"


def respond(app: APIGatewayHttpResolver, outcome: Outcome, error: Exception | None = None) -> Response[str]:
    """The response for `outcome`, recorded on the request's log (see `observed_request`) first."""
    request_log: RequestLog = app.context["request_log"]
    request_log.answered(outcome, error)
    headers = outcome.response_headers()
    # a write's answer tells the client its rate (the limiter ran: see `admit_write`), whatever the outcome
    headers.update(app.context.get(RATE_LIMIT_CONTEXT_KEY) or {})
    return Response(status_code=outcome.status_code, body=outcome.body, headers=headers)


def admit_write(app: APIGatewayHttpResolver, limiter: WriteLimiter, company_id: str) -> None:
    """Count the write against the company's rate (raises RateLimited, QuotaExceeded); every answer after it carries
    the RateLimit fields.
    """
    state = limiter.admit(company_id)
    if state is not None:
        app.append_context(**{RATE_LIMIT_CONTEXT_KEY: state.headers()})  # type: ignore[no-untyped-call]


def request_id(app: APIGatewayHttpResolver) -> str:
    return str(app.current_event.request_context.request_id)


def answer_errors(app: APIGatewayHttpResolver) -> None:
    """Map every exception a route raises to its contract response (http.py's table), a bug to a bare 500."""

    @app.exception_handler(DomainError)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
    def _domain_error(exc: DomainError) -> Response[str]:
        return respond(app, error_outcome(exc, request_id(app)), exc)

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected_error(exc: Exception) -> Response[str]:
        return respond(app, error_outcome(exc, request_id(app)), exc)
