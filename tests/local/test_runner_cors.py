"""The local runner's CORS mirrors the HTTP API's CorsConfiguration in template.yaml (AllowedOrigins)."""

from __future__ import annotations

from typing import Any

from products_api_local import cors
from products_api_local.apigateway.events import HttpRequest, HttpResponse

APP = "http://localhost:5173"


def _request(method: str, *headers: tuple[str, str]) -> HttpRequest:
    return HttpRequest(method, "/api/v1/products/x", "", list(headers), b"", "127.0.0.1")


def test_no_origins_no_cors(cfn_template: dict[str, Any]) -> None:
    assert cors.default_origins(cfn_template) == ""
    assert cors.policy_from_template(cfn_template, "") is None
    response = HttpResponse(200)
    cors.decorate(None, _request("PATCH", ("Origin", APP)), response)
    assert response.headers == []
    assert (
        cors.preflight(None, _request("OPTIONS", ("Origin", APP), ("Access-Control-Request-Method", "PATCH"))) is None
    )


def test_the_policy_is_the_templates(cfn_template: dict[str, Any]) -> None:
    policy = cors.policy_from_template(cfn_template, f"{APP},https://app.example.com")
    assert policy is not None
    configuration = cfn_template["Resources"]["ProductsHttpApi"]["Properties"]["CorsConfiguration"]["Fn::If"][1]
    assert policy.origins == (APP, "https://app.example.com")
    assert list(policy.methods) == configuration["AllowMethods"]
    assert list(policy.headers) == configuration["AllowHeaders"]
    assert policy.max_age == configuration["MaxAge"]


def test_a_preflight_from_an_allowed_origin_is_answered_without_the_function(cfn_template: dict[str, Any]) -> None:
    policy = cors.policy_from_template(cfn_template, APP)
    response = cors.preflight(policy, _request("OPTIONS", ("Origin", APP), ("Access-Control-Request-Method", "PATCH")))
    assert response is not None and response.status == 204
    headers = dict(response.headers)
    assert headers["Access-Control-Allow-Origin"] == APP
    assert "PATCH" in headers["Access-Control-Allow-Methods"]
    assert "idempotency-key" in headers["Access-Control-Allow-Headers"]
    # another origin gets no permission
    refused = cors.preflight(
        policy, _request("OPTIONS", ("Origin", "https://evil.example"), ("Access-Control-Request-Method", "PATCH"))
    )
    assert refused is not None and "Access-Control-Allow-Origin" not in dict(refused.headers)
    # an OPTIONS that is not a preflight goes to the routes
    assert cors.preflight(policy, _request("OPTIONS")) is None


def test_answers_to_an_allowed_origin_carry_the_headers(cfn_template: dict[str, Any]) -> None:
    policy = cors.policy_from_template(cfn_template, APP)
    allowed = HttpResponse(200)
    cors.decorate(policy, _request("PATCH", ("origin", APP)), allowed)
    headers = dict(allowed.headers)
    assert headers["Access-Control-Allow-Origin"] == APP
    assert "etag" in headers["Access-Control-Expose-Headers"]
    other = HttpResponse(200)
    cors.decorate(policy, _request("PATCH", ("origin", "https://evil.example")), other)
    cors.decorate(policy, _request("PATCH"), other)
    assert other.headers == []
