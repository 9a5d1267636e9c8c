"""The local runner's side of Lambda, without HTTP: function results as API Gateway reads them, and the functions
as the runner configures and calls them (environment, context, failures, timeouts).
"""

from __future__ import annotations

import base64
import copy
import os
import re
from pathlib import Path
from typing import Any

import pytest
from gateway_support import LOCAL, ROUTES, TEMPLATE, request
from products_api_local.apigateway.events import (
    HttpRequest,
    HttpResponse,
    InvalidResult,
    response_from_result,
)
from products_api_local.apigateway.server import LocalApi
from products_api_local.functions.containers import FunctionContainers, InProcessFunction
from products_api_local.functions.worker import ContainerSpec
from products_api_local.template.document import TemplateError
from products_api_local.template.functions import function_specs, local_table_names
from support import ROOT

# what Lambda puts in _X_AMZN_TRACE_ID: Root=1-<8 hex: epoch seconds>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>
TRACE_HEADER = re.compile(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]")

# --- results -----------------------------------------------------------------------------------------------


def test_result_with_status_code_is_the_response() -> None:
    response = response_from_result(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "X-Flag": True},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": '{"ok":true}',
        }
    )
    assert response.status == 201
    assert ("Content-Type", "application/json") in response.headers
    assert ("X-Flag", "true") in response.headers
    assert [value for name, value in response.headers if name == "Set-Cookie"] == ["a=1; Path=/", "b=2"]
    assert response.body == b'{"ok":true}'


def test_base64_result_body_is_decoded() -> None:
    response = response_from_result(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\xff").decode(), "isBase64Encoded": True}
    )
    assert response.body == b"\x00\xff"


@pytest.mark.parametrize(("result", "body"), [({"hello": "world"}, b'{"hello":"world"}'), ("hi", b'"hi"'), (3, b"3")])
def test_result_without_status_code_is_a_200_json_body(result: Any, body: bytes) -> None:
    response = response_from_result(result)
    assert (response.status, response.body) == (200, body)
    assert response.headers == [("Content-Type", "application/json")]


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "200"},
        {"statusCode": 99},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": "%%%", "isBase64Encoded": True},
    ],
)
def test_invalid_results_are_refused(result: Any) -> None:
    with pytest.raises(InvalidResult):
        response_from_result(result)


# --- the functions as the runner configures and calls them -------------------------------------------------


# What the environment of every function behind the API holds besides its own tables.
API_FUNCTION_ENVIRONMENT = {
    "PRODUCTS_TABLE_NAME": "ProductsTable",
    "CREDENTIALS_TABLE_NAME": "CredentialsTable",
    "CREDENTIAL_CACHE_SECONDS": "60",
    "POWERTOOLS_SERVICE_NAME": "products-api",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_METRICS_NAMESPACE": "ProductsApi",
    "ENVIRONMENT_NAME": "products-api-local",  # !Ref AWS::StackName, the runner's stack name
}


def test_function_environment_resolves_to_local_tables_and_parameter_defaults() -> None:
    specs = function_specs(TEMPLATE, ROOT, local_table_names(TEMPLATE), "eu-west-1")
    spec = specs["UpdateProductFunction"]
    assert spec.environment == {
        **API_FUNCTION_ENVIRONMENT,
        "IDEMPOTENCY_TABLE_NAME": "IdempotencyTable",
        "LIMITS_TABLE_NAME": "LimitsTable",
        "WRITE_RATE_PER_MINUTE": "100",  # the parameter's default
    }
    assert (spec.handler, spec.timeout_seconds, spec.memory_mb) == ("update_product.lambda_handler", 10, 1024)
    assert spec.code_dir == ROOT / "functions" / "update_product"
    history = specs["GetProductHistoryFunction"]
    assert history.environment == {**API_FUNCTION_ENVIRONMENT, "HISTORY_TABLE_NAME": "HistoryTable"}
    assert history.handler == "get_product_history.lambda_handler"
    assert history.code_dir == ROOT / "functions" / "get_product_history"


def test_unresolvable_environment_value_is_named() -> None:
    template = copy.deepcopy(TEMPLATE)
    variables = template["Resources"]["UpdateProductFunction"]["Properties"]["Environment"]["Variables"]
    variables["TABLE_ARN"] = {"Fn::GetAtt": ["ProductsTable", "Arn"]}
    with pytest.raises(TemplateError, match=r"UpdateProductFunction\.Environment\.Variables\.TABLE_ARN"):
        function_specs(template, ROOT, local_table_names(template), "eu-west-1")
    variables["TABLE_ARN"] = {"Ref": "ProductsHttpApi"}
    with pytest.raises(TemplateError, match="ProductsHttpApi"):
        function_specs(template, ROOT, local_table_names(template), "eu-west-1")


class _Api:
    """The LocalApi with one in-process function; `handle` gives the response alone."""

    def __init__(self, handler: Any, timeout_seconds: int) -> None:
        function = InProcessFunction("UpdateProductFunction", handler, timeout_seconds, memory_mb=512)
        self.logged: list[str] = []
        self.api = LocalApi(ROUTES, {"UpdateProductFunction": function}, LOCAL, self.logged.append)

    def handle(self, request: HttpRequest) -> HttpResponse:
        response, _ = self.api.handle(request)
        return response


def local_api(handler: Any, timeout_seconds: int = 10) -> _Api:
    return _Api(handler, timeout_seconds)


def test_handler_gets_the_event_and_a_lambda_context() -> None:
    seen: list[tuple[dict[str, Any], Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append((event, context))
        return {"statusCode": 200, "body": "{}"}

    response = local_api(handler).handle(request(headers=[("Content-Type", "application/json")], body=b"{}"))
    assert response.status == 200
    ((event, context),) = seen
    assert event["pathParameters"] == {"id": "6650a1b2c3d4e5f6a7b8c9d0"}
    assert context.function_name == "UpdateProductFunction"
    assert context.memory_limit_in_mb == 512
    assert context.invoked_function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:UpdateProductFunction"
    assert 9000 < context.get_remaining_time_in_millis() <= 10_000
    assert ("Apigw-Requestid", event["requestContext"]["requestId"]) in response.headers


def test_handler_failure_is_a_500_like_api_gateway() -> None:
    def handler(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("boom")

    response = local_api(handler).handle(request())
    assert (response.status, response.body) == (500, b'{"message":"Internal Server Error"}')


def test_handler_over_its_timeout_is_a_500() -> None:
    def handler(event: dict[str, Any], context: Any) -> Any:
        # Lambda would stop it here: the runner cannot, but discards the late result.
        while context.get_remaining_time_in_millis() > 0:
            pass
        return {"statusCode": 200, "body": "{}"}

    response = local_api(handler, timeout_seconds=0).handle(request())
    assert response.status == 500


def test_each_invocation_gets_a_trace_header_as_lambda_sets_it(tmp_path: Path) -> None:
    """A container sets `_X_AMZN_TRACE_ID` before each invocation, as the Lambda runtime does (Powertools' log lines
    carry its root as `xray_trace_id`): the documented form, a new one every time."""
    (tmp_path / "tracing.py").write_text(
        "import os\n\n\ndef handler(event, context):\n    return {'trace': os.environ.get('_X_AMZN_TRACE_ID')}\n"
    )
    spec = ContainerSpec("TraceFunction", tmp_path, "tracing.handler", 128, "eu-west-1", environment=dict(os.environ))
    containers = FunctionContainers(spec, timeout_seconds=30, concurrency=1)
    try:
        first, second = (containers.invoke({}) for _ in range(2))
    finally:
        containers.stop()
    headers = [invocation.result["trace"] for invocation in (first, second) if invocation.result is not None]
    assert len(headers) == 2 and headers[0] != headers[1]
    for header in headers:
        assert TRACE_HEADER.fullmatch(header), header
