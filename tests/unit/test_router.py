"""The HTTP functions' router (api/handler.py), which replaced Powertools' resolver: what the resolver did for these
functions is what it does (route by method and raw path, one-segment parameters, an unmatched event is a bug answered
500, every exception answered from the error catalogue, the payload 2.0 response shape).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from products_api.api.handler import HttpRequest, HttpRoutes, RouteNotFound
from products_api.api.observability import RequestLog
from products_api.api.responses import Outcome
from products_api.auth.credentials import Principal
from products_api.core.settings import ApiSettings
from products_api.errors import InsufficientScope, ProductNotFound, Unauthorized

TOKEN = "tp_router_test_token"


@dataclass
class FakeAuthenticator:
    """Knows one token, holding products:read; records the scopes each call asked for."""

    asked: list[tuple[str, ...]] = field(default_factory=list)

    def authenticate(self, authorization: str | None, required_scope: str, *also_accepted: str) -> Principal:
        self.asked.append((required_scope, *also_accepted))
        if authorization != f"Bearer {TOKEN}":
            raise Unauthorized("no such credential", token_presented=authorization is not None)
        if "products:read" not in (required_scope, *also_accepted):
            raise InsufficientScope(required_scope)
        return Principal(company_id="ACME", credential_id="cred_1", kind="api-key", scopes=frozenset({"products:read"}))


@dataclass
class FakeRuntime:
    authenticator: FakeAuthenticator = field(default_factory=FakeAuthenticator)
    settings: ApiSettings = field(
        default_factory=lambda: ApiSettings(products_table_name="products", credentials_table_name="credentials")
    )


runtime = FakeRuntime()
routes = HttpRoutes(lambda: runtime)
seen: list[HttpRequest] = []


@routes.route(
    "GET", "/api/v1/products/{id}/images/uploads/{uploadId}", scopes=("products:read",), success_metric="UploadRead"
)
def upload(request: HttpRequest, caller: Principal) -> Outcome:
    seen.append(request)
    return Outcome(200, json.dumps(dict(request.path_parameters)), {"ETag": '"1"'})


@routes.route(
    "PATCH", "/api/v1/products/{id}", scopes=("products:write", "products:read"), success_metric="ProductUpdated"
)
def patch(request: HttpRequest, caller: Principal) -> Outcome:
    seen.append(request)
    if request.path_parameters["id"] == "missing":
        raise ProductNotFound("missing")
    if request.path_parameters["id"] == "bug":
        raise ZeroDivisionError("a bug")
    return Outcome(200, "{}")


def event(method: str, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "rawPath": path,
        "headers": {"authorization": f"Bearer {TOKEN}", **(headers or {})},
        "requestContext": {"requestId": "req-1", "http": {"method": method}},
    }


def test_a_route_gets_its_path_parameters_and_lower_cased_headers() -> None:
    seen.clear()
    log = RequestLog()
    answer = routes.resolve(event("GET", "/api/v1/products/p1/images/uploads/u2", {"If-Match": '"3"'}), log)
    assert runtime.authenticator.asked[-1] == ("products:read",)
    assert answer == {
        "statusCode": 200,
        "body": '{"id": "p1", "uploadId": "u2"}',
        "isBase64Encoded": False,
        "headers": {"Content-Type": "application/json", "ETag": '"1"'},
        "cookies": [],
    }
    assert seen[-1].headers == {"authorization": f"Bearer {TOKEN}", "if-match": '"3"'}
    assert seen[-1].request_id == "req-1"
    assert (log.outcome, log.error, log.success_metric) == (
        Outcome(200, answer["body"], {"ETag": '"1"'}),
        None,
        "UploadRead",
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/products/p1"),  # a path of the function, another method
        ("PATCH", "/api/v1/products/p1/"),  # a parameter is one whole segment
        ("PATCH", "/api/v1/products/a/b"),
        ("PATCH", "/api/v1/products/"),
        ("", ""),
    ],
)
def test_an_event_of_no_route_is_a_bug_answered_500(method: str, path: str) -> None:
    seen.clear()
    log = RequestLog()
    answer = routes.resolve(event(method, path), log)
    assert answer["statusCode"] == 500 and json.loads(answer["body"])["code"] == "internal_error"
    assert isinstance(log.error, RouteNotFound) and seen == []


def test_exceptions_are_answered_from_the_catalogue() -> None:
    log = RequestLog()
    answer = routes.resolve(event("PATCH", "/api/v1/products/missing"), log)
    assert answer["statusCode"] == 404 and json.loads(answer["body"])["code"] == "not_found"
    assert isinstance(log.error, ProductNotFound) and log.outcome is not None and log.outcome.code == "not_found"
    answer = routes.resolve(event("PATCH", "/api/v1/products/bug"), log)
    assert answer["statusCode"] == 500 and "a bug" not in answer["body"]
    assert isinstance(log.error, ZeroDivisionError)


@pytest.mark.parametrize(
    ("headers", "status"), [({"authorization": ""}, 401), ({"Authorization": "Bearer other"}, 401)]
)
def test_the_caller_is_authenticated_before_the_route_runs(headers: dict[str, str], status: int) -> None:
    seen.clear()
    request_event = event("GET", "/api/v1/products/p1/images/uploads/u2")
    request_event["headers"] = headers
    answer = routes.resolve(request_event, RequestLog())
    assert answer["statusCode"] == status and seen == []


def test_a_route_asks_for_its_own_scopes() -> None:
    writers = HttpRoutes(lambda: runtime)

    @writers.route("POST", "/w", scopes=("products:write",), success_metric="ProductUpdated")
    def write(request: HttpRequest, caller: Principal) -> Outcome:
        raise AssertionError("a caller without the scope got through")

    answer = writers.resolve(event("POST", "/w"), RequestLog())
    assert answer["statusCode"] == 403 and runtime.authenticator.asked[-1] == ("products:write",)


def test_rate_limit_fields_go_on_every_answer_after_the_limiter_ran() -> None:
    limited = HttpRoutes(lambda: runtime)

    @limited.route("PATCH", "/x/{id}", scopes=("products:read",), success_metric="ProductUpdated")
    def limited_patch(request: HttpRequest, caller: Principal) -> Outcome:
        request.rate_limit_headers = {"RateLimit": "limit=10, remaining=9, reset=60"}
        raise ProductNotFound(request.path_parameters["id"])

    answer = limited.resolve(event("PATCH", "/x/1"), RequestLog())
    assert answer["statusCode"] == 404 and answer["headers"]["RateLimit"] == "limit=10, remaining=9, reset=60"


def test_declared_routes_are_written_as_in_the_template() -> None:
    assert routes.declared() == [
        ("/api/v1/products/{id}/images/uploads/{uploadId}", "get"),
        ("/api/v1/products/{id}", "patch"),
    ]
