"""What every HTTP function's module repeated around its routes: the resolver, the Lambda entry point and the caller.

A function keeps its own routes (route, parse, call, map) and names only what differs: its runtime, its scopes and the
metric a 2xx counts as. Nothing here adds work to a request: `http_entrypoint` applies the decorators once, at import,
and gives back the very function they built stacked; `caller` and `resolve_observed` are the lines each handler ran
inline before, now in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths

from products_api.api.handler import answer_errors
from products_api.api.observability import PRODUCT_UPDATED, logger, metrics, observed_request, traced

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from products_api.auth.credentials import Authenticator, Principal
    from products_api.core.settings import ApiSettings

_Handler = TypeVar("_Handler", bound=Callable[..., Any])


def http_app() -> APIGatewayHttpResolver:
    """The function's resolver: every exception a route raises is answered from the error catalogue."""
    app = APIGatewayHttpResolver()
    answer_errors(app)
    return app


def http_entrypoint(handler: _Handler) -> _Handler:
    """`handler` as the Lambda entry point of an HTTP function, the same as the three decorators stacked.

    The event is never logged (log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says); the response body is product
    data and stays out of the trace; log_metrics flushes the request's metric even when the handler raises.
    """
    with_context = logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False, clear_state=True
    )
    return cast("_Handler", with_context(traced(metrics.log_metrics(handler))))


def resolve_observed(
    app: APIGatewayHttpResolver,
    event: dict[str, Any],
    context: LambdaContext,
    settings: ApiSettings,
    success_metric: str = PRODUCT_UPDATED,
) -> dict[str, Any]:
    """The resolver's answer to `event`, timed and written as one log line and one outcome metric (a 2xx counts as
    `success_metric`); `respond` records each answer on the request log it finds in the resolver's context.
    """
    with observed_request(event, settings, success_metric=success_metric) as request_log:
        app.append_context(request_log=request_log)  # type: ignore[no-untyped-call]  # untyped in Powertools
        return app.resolve(event, context)


def caller(
    app: APIGatewayHttpResolver, authenticator: Authenticator, required_scope: str, *also_accepted: str
) -> Principal:
    """Who sends the current request, holding `required_scope` or one of `also_accepted` (Unauthorized, Forbidden
    otherwise); their company and credential are on every log line that follows.
    """
    authorization = app.current_event.headers.get("authorization")
    # two calls rather than one with `*also_accepted`: PATCH (measured, issue 16) builds no argument tuple
    principal = (
        authenticator.authenticate(authorization, required_scope, *also_accepted)
        if also_accepted
        else authenticator.authenticate(authorization, required_scope)
    )
    logger.append_keys(company_id=principal.company_id, credential_id=principal.credential_id)
    return principal
