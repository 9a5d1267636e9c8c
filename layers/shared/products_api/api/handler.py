"""What the HTTP functions' handlers share: the routes of an API Gateway HTTP API (payload 2.0) event, and the one
place where an answer or an exception becomes the Lambda proxy response.

Each handler stays route, parse, call, map. This replaces Powertools' `APIGatewayHttpResolver`: a function serves
one to three routes, which API Gateway has already matched, and the resolver's generality (route trees, CORS,
compression, middlewares, validation, none of them used here) cost about 0.3 ms of every warm request. What it did
for these functions is kept as it was: the method and the raw path pick the route; a path parameter is one segment;
an event that matches no route (a misrouted direct invoke) is a bug, answered 500 and logged with its stack trace;
the response has the payload 2.0 shape (`statusCode`, `body`, `isBase64Encoded`, `headers`, `cookies`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from products_api.api.observability import RequestLog, logger, observed
from products_api.api.responses import Outcome, error_outcome

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from products_api.auth.credentials import Principal
    from products_api.core.settings import ApiSettings
    from products_api.limits.limiter import WriteLimiter

_PATH_PARAMETER = re.compile(r"\{([A-Za-z][A-Za-z0-9]*)\}")


class RouteNotFound(LookupError):
    """The event names no route of this function: API Gateway sends only the function's own routes, so a direct
    invoke or a template edit is wrong. Not a DomainError: it answers 500 and logs its stack trace.
    """


@dataclass
class HttpRequest:
    """One request as a route sees it. Header names are lower-cased (API Gateway sends them so; a hand-made event
    may not), so a route reads `headers.get("if-match")` whatever the caller wrote.
    """

    event: Mapping[str, Any]
    headers: Mapping[str, str]
    path_parameters: Mapping[str, str]
    request_id: str
    # the write's RateLimit fields once the limiter ran (`admit_write`): every answer after it carries them
    rate_limit_headers: dict[str, str] = field(default_factory=dict)

    @property
    def query(self) -> Mapping[str, str]:
        return self.event.get("queryStringParameters") or {}

    def admit_write(self, limiter: WriteLimiter, company_id: str) -> None:
        """Count the write against the company's rate (raises RateLimited, QuotaExceeded)."""
        state = limiter.admit(company_id)
        if state is not None:
            self.rate_limit_headers = state.headers()


class CredentialCheck(Protocol):
    """What the router asks of the credential look-up (`auth.credentials.Authenticator`)."""

    def authenticate(self, authorization: str | None, required_scope: str, *also_accepted: str) -> Principal: ...


class ApiRuntime(Protocol):
    """What the router needs of a function's warm runtime: its settings and its credential look-up."""

    @property
    def settings(self) -> ApiSettings: ...

    @property
    def authenticator(self) -> CredentialCheck: ...


# A route answers a request from an authenticated caller.
Route = Callable[[HttpRequest, "Principal"], Outcome]


@dataclass(frozen=True)
class _Route:
    method: str
    template: str
    path: re.Pattern[str]
    answer: Route
    # the caller must hold the first scope or one of the others
    scopes: tuple[str, ...]
    # the outcome metric of a 2xx of this route
    success_metric: str


class HttpRoutes:
    """A function's routes, written as in template.yaml: `@routes.route("GET", "/api/v1/products/{id}", ...)`.

    Every route authenticates its caller first (the order a client can act on: 401/403 before anything about the
    request), with the credential look-up of the function's runtime; the company and credential then go on every log
    line of the request.
    """

    def __init__(self, runtime: Callable[[], ApiRuntime]) -> None:
        self._runtime = runtime
        self._routes: list[_Route] = []

    def route(
        self, method: str, path: str, *, scopes: tuple[str, ...], success_metric: str
    ) -> Callable[[Route], Route]:
        # literal text and parameter names alternate; a parameter is one path segment
        parts = _PATH_PARAMETER.split(path)
        pattern = re.compile(
            "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts))
        )

        def register(answer: Route) -> Route:
            self._routes.append(_Route(method, path, pattern, answer, scopes, success_metric))
            return answer

        return register

    def declared(self) -> list[tuple[str, str]]:
        """(path as written, lower-case method) of each route: what the OpenAPI check compares with template.yaml."""
        return [(route.template, route.method.lower()) for route in self._routes]

    def serve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """A function's whole answer to `event`: resolved, timed, and written as one log line and one EMF blob."""
        return observed(event, context, self._runtime().settings, lambda request_log: self.resolve(event, request_log))

    def resolve(self, event: Mapping[str, Any], request_log: RequestLog) -> dict[str, Any]:
        """The Lambda proxy response to `event`; the answer (and the exception behind an error) goes on the log."""
        context = event.get("requestContext") or {}
        request = HttpRequest(
            event=event,
            headers={str(name).lower(): value for name, value in (event.get("headers") or {}).items()},
            path_parameters={},
            request_id=str(context.get("requestId") or ""),
        )
        error: Exception | None = None
        try:
            route, request.path_parameters = self._match(str((context.get("http") or {}).get("method") or ""), event)
            request_log.success_metric = route.success_metric
            outcome = route.answer(request, self._caller(route, request))
        except Exception as exc:  # every exception is answered: a known one by its catalogue entry, a bug by a 500
            outcome, error = error_outcome(exc, request.request_id), exc
        request_log.answered(outcome, error)
        headers = outcome.response_headers()
        headers.update(request.rate_limit_headers)
        return {
            "statusCode": outcome.status_code,
            "body": outcome.body,
            "isBase64Encoded": False,
            "headers": headers,
            "cookies": [],
        }

    def _caller(self, route: _Route, request: HttpRequest) -> Principal:
        principal = self._runtime().authenticator.authenticate(request.headers.get("authorization"), *route.scopes)
        logger.append_keys(company_id=principal.company_id, credential_id=principal.credential_id)
        return principal

    def _match(self, method: str, event: Mapping[str, Any]) -> tuple[_Route, dict[str, str]]:
        path = str(event.get("rawPath") or "")
        for route in self._routes:
            if route.method == method:
                matched = route.path.fullmatch(path)
                if matched is not None:
                    return route, matched.groupdict()
        raise RouteNotFound(f"no route for {method} {path}")
