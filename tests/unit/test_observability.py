"""Operations: one JSON log line and one outcome metric (CloudWatch EMF) per request, whatever its outcome; no secret
in any log, even at DEBUG; X-Ray tracing, the alarms and their optional SNS topic in template.yaml.

Logs are read from the handler's Powertools Logger (the `handler_log` fixture), metrics from stdout, where Powertools
prints each EMF blob (capsys). What is observed does not depend on the database, so these run on moto only.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from products_api.api import catalogue, observability
from products_api.api.catalogue import error_codes
from products_api.errors import StoreUnavailable
from products_api.products.rules import ProductUpdater
from products_api.products.runtime import Runtime
from support import (
    EVENT_PRODUCT_ID,
    EVENT_TOKEN,
    Api,
    ApiResponse,
    FakeContext,
    HistoryApi,
    handler_module,
    product_event,
)

on_moto = pytest.mark.parametrize("backend", ["moto"], indirect=True)

READ_ONLY_TOKEN = "tp_observability_read_only_token_0000000000"
UNKNOWN_PRODUCT = "0123456789abcdef01234567"
# A product name no log may carry: the event and the bodies are never logged.
PROBE_NAME = "observability-probe-name"
DIMENSIONS = {"service", "environment"}


@dataclass
class Observed:
    event: dict[str, Any]
    response: ApiResponse
    log_lines: list[dict[str, Any]]
    log_text: str
    emf: list[dict[str, Any]]

    @property
    def line(self) -> dict[str, Any]:
        assert len(self.log_lines) == 1, f"expected one log line per request, got {self.log_text}"
        return self.log_lines[0]

    @property
    def blob(self) -> dict[str, Any]:
        assert len(self.emf) == 1, f"expected one EMF blob per request, got {self.emf}"
        return self.emf[0]


Observe = Callable[..., Observed]


@pytest.fixture
def observe(api: Api, handler_log: Any, capsys: pytest.CaptureFixture[str]) -> Observe:
    """Invoke the handler on one event; what it logged (every line parsed as JSON) and the EMF it printed."""

    def run(event: dict[str, Any], context: FakeContext | None = None) -> Observed:
        capsys.readouterr()
        handler_log.seek(0)
        handler_log.truncate()
        response = api.invoke(event, context)
        text = handler_log.getvalue()
        lines = [json.loads(line) for line in text.splitlines()]
        printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
        assert all("_aws" in blob for blob in printed), f"stdout holds something other than EMF: {printed}"
        return Observed(event, response, lines, text, printed)

    return run


def metric_names(blob: dict[str, Any]) -> list[str]:
    return [metric["Name"] for directive in blob["_aws"]["CloudWatchMetrics"] for metric in directive["Metrics"]]


def dimension_names(blob: dict[str, Any]) -> set[str]:
    return {
        name for directive in blob["_aws"]["CloudWatchMetrics"] for names in directive["Dimensions"] for name in names
    }


# --- each outcome: its log line and its metric ---------------------------------------------------------------------


def _explode(message: str) -> Callable[[ProductUpdater, Any], Any]:
    def update(self: ProductUpdater, command: Any) -> Any:
        raise RuntimeError(message)

    return update


def _unavailable(self: ProductUpdater, command: Any) -> Any:
    cause = ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}}, "UpdateItem"
    )
    raise StoreUnavailable("products table") from cause


@dataclass(frozen=True)
class Case:
    status: int
    code: str | None
    metric: str
    message: str
    level: str = "INFO"
    authenticated: bool = True
    product_logged: bool = True
    replayed: bool = False


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def _replayed(api: Api) -> dict[str, Any]:
    headers = _key()
    assert api.patch(EVENT_PRODUCT_ID, {"name": PROBE_NAME}, headers).status == 200
    return product_event(EVENT_PRODUCT_ID, {"name": PROBE_NAME}, headers)


def _key_reused(api: Api) -> dict[str, Any]:
    headers = _key()
    assert api.patch(EVENT_PRODUCT_ID, {"name": "first"}, headers).status == 200
    return product_event(EVENT_PRODUCT_ID, {"name": PROBE_NAME}, headers)


def _duplicate_model(api: Api) -> dict[str, Any]:
    api.add_product(model="TAKEN-1")
    return product_event(EVENT_PRODUCT_ID, {"model": "taken-1"})


def _forbidden(api: Api) -> dict[str, Any]:
    api.add_credential(READ_ONLY_TOKEN, scopes=("products:read",))
    return product_event(EVENT_PRODUCT_ID, {"name": PROBE_NAME}, token=READ_ONLY_TOKEN)


def _failing(monkeypatch: pytest.MonkeyPatch, update: Callable[[ProductUpdater, Any], Any]) -> dict[str, Any]:
    """A plain patch, answered after the updater fails as given."""
    monkeypatch.setattr(ProductUpdater, "update", update)
    return product_event(EVENT_PRODUCT_ID, {"name": PROBE_NAME})


CASES: dict[str, tuple[Case, Callable[[Api, pytest.MonkeyPatch], dict[str, Any]]]] = {
    "200 updated": (
        Case(200, None, "ProductUpdated", "request completed"),
        lambda api, mp: product_event(EVENT_PRODUCT_ID.upper(), {"name": PROBE_NAME}),
    ),
    "200 replay": (
        Case(200, None, "IdempotentReplay", "request completed", replayed=True),
        lambda api, mp: _replayed(api),
    ),
    "400 validation_error": (
        Case(400, "validation_error", "ValidationFailed", "request refused"),
        lambda api, mp: product_event(EVENT_PRODUCT_ID, {"name": "", "description": PROBE_NAME}),
    ),
    "400 invalid_id": (
        Case(400, "invalid_id", "ValidationFailed", "request refused", product_logged=False),
        lambda api, mp: product_event("not-an-id", {"name": PROBE_NAME}),
    ),
    "400 invalid_json": (
        Case(400, "invalid_json", "ValidationFailed", "request refused"),
        lambda api, mp: product_event(EVENT_PRODUCT_ID, f'{{"name": "{PROBE_NAME}"'),
    ),
    "400 invalid_idempotency_key": (
        Case(400, "invalid_idempotency_key", "ValidationFailed", "request refused"),
        lambda api, mp: product_event(EVENT_PRODUCT_ID, {"name": PROBE_NAME}, {"Idempotency-Key": "nope"}),
    ),
    "401 unauthorized": (
        Case(401, "unauthorized", "Unauthorized", "request refused", authenticated=False),
        lambda api, mp: product_event(EVENT_PRODUCT_ID, {"name": PROBE_NAME}, token=None),
    ),
    "403 insufficient_scope": (
        Case(403, "insufficient_scope", "Forbidden", "request refused", authenticated=False),
        lambda api, mp: _forbidden(api),
    ),
    "404 not_found": (
        Case(404, "not_found", "NotFound", "request refused"),
        lambda api, mp: product_event(UNKNOWN_PRODUCT, {"name": PROBE_NAME}),
    ),
    "409 duplicate_model": (
        Case(409, "duplicate_model", "ModelConflict", "request refused"),
        lambda api, mp: _duplicate_model(api),
    ),
    "412 precondition_failed": (
        Case(412, "precondition_failed", "PreconditionFailed", "request refused"),
        lambda api, mp: product_event(EVENT_PRODUCT_ID, {"name": PROBE_NAME}, {"If-Match": '"7"'}),
    ),
    "413 payload_too_large": (
        Case(413, "payload_too_large", "ValidationFailed", "request refused"),
        lambda api, mp: product_event(EVENT_PRODUCT_ID, {"name": PROBE_NAME, "description": "x" * 300_000}),
    ),
    "415 unsupported_media_type": (
        Case(415, "unsupported_media_type", "ValidationFailed", "request refused"),
        lambda api, mp: product_event(EVENT_PRODUCT_ID, {"name": PROBE_NAME}, {"Content-Type": "text/plain"}),
    ),
    "422 idempotency_key_reused": (
        Case(422, "idempotency_key_reused", "IdempotencyConflict", "request refused"),
        lambda api, mp: _key_reused(api),
    ),
    "503 unavailable": (
        Case(503, "unavailable", "Unavailable", "request failed", level="WARNING"),
        lambda api, mp: _failing(mp, _unavailable),
    ),
    "500 internal_error": (
        Case(500, "internal_error", "InternalError", "unexpected error", level="ERROR"),
        lambda api, mp: _failing(mp, _explode("simulated failure")),
    ),
}


@on_moto
@pytest.mark.parametrize("name", list(CASES))
def test_one_log_line_and_one_metric_per_request(
    name: str, api: Api, observe: Observe, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, make_event = CASES[name]
    api.add_product(EVENT_PRODUCT_ID, model="OBS-1")
    event = make_event(api, monkeypatch)
    context = FakeContext()
    observed = observe(event, context)
    request_id = event["requestContext"]["requestId"]

    assert observed.response.status == case.status, observed.response.body
    if case.code is not None:
        assert observed.response.json["requestId"] == request_id

    line = observed.line
    assert line["level"] == case.level
    assert line["message"] == case.message
    assert line["request_id"] == line["correlation_id"] == request_id
    assert line["function_request_id"] == context.aws_request_id
    assert line["service"] == "products-api"
    assert line["status"] == case.status
    assert line.get("code") == case.code  # Powertools drops null fields: no code on success
    assert line["outcome"] == case.metric
    assert line["replayed"] is case.replayed
    assert isinstance(line["latency_ms"], float) and 0 < line["latency_ms"] < 10_000
    if case.authenticated:
        assert line["company_id"] == "ACME" and line["credential_id"].startswith("cred_")
    else:
        assert "company_id" not in line and "credential_id" not in line
    if case.product_logged:
        # normalised to lower case, as the API uses it
        assert line["product_id"] == event["pathParameters"]["id"].lower()
    else:
        assert "product_id" not in line
    # the event, its headers and its body are never logged
    assert PROBE_NAME not in observed.log_text and EVENT_TOKEN not in observed.log_text
    assert "headers" not in line and "body" not in line and "event" not in line
    if case.status == 500:
        assert line["exception_name"] == "RuntimeError" and "simulated failure" in line["exception"]
        assert "Traceback" in line["exception"] and line["stack_trace"]["frames"]
        assert "simulated" not in observed.response.body and "Traceback" not in observed.response.body
    else:
        assert "exception" not in line
    if case.status == 503:
        assert line["reason"] == "StoreUnavailable"
        assert "ProvisionedThroughputExceededException" in line["cause"]

    blob = observed.blob
    directive = blob["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "ProductsApi"
    assert metric_names(blob) == [case.metric]
    assert blob[case.metric] == [1.0]
    assert directive["Metrics"][0]["Unit"] == "Count"
    assert dimension_names(blob) == DIMENSIONS
    assert (blob["service"], blob["environment"]) == ("products-api", "local")
    assert blob["request_id"] == request_id  # metadata, not a dimension
    assert EVENT_PRODUCT_ID not in json.dumps(directive) and "ACME" not in json.dumps(blob)


def test_every_error_code_counts_under_a_declared_metric() -> None:
    # entries sharing a code are one answer to clients and to dashboards: same status, metric and meaning
    for code in error_codes():
        entries = {(e.status, e.metric, e.meaning) for e in catalogue.every_error() if e.code == code}
        assert len(entries) == 1, (code, entries)
        assert catalogue.METRIC_BY_CODE[code] in observability.OUTCOME_METRICS, code
    assert set(catalogue.METRIC_BY_CODE.values()) | {
        "ProductUpdated",
        "HistoryRead",
        "ProductRead",
        "IdempotentReplay",
        "ImageAppended",
        "UploadCreated",
        "UploadRead",
        "UsageRead",
    } == set(observability.OUTCOME_METRICS)
    assert len(set(observability.OUTCOME_METRICS)) == len(observability.OUTCOME_METRICS)
    assert observability.outcome_metric(409, "duplicate_model", replayed=False) == "ModelConflict"
    assert observability.outcome_metric(503, "unavailable", replayed=False) == "Unavailable"
    assert observability.outcome_metric(500, None, replayed=False) == "InternalError"
    assert observability.outcome_metric(404, "not_found", replayed=True) == "IdempotentReplay"
    assert observability.outcome_metric(200, None, replayed=False) == "ProductUpdated"
    assert observability.outcome_metric(200, None, replayed=False, success="HistoryRead") == "HistoryRead"


@on_moto
@pytest.mark.parametrize(
    ("query", "status", "code", "metric"),
    [
        ({}, 200, None, "HistoryRead"),
        ({"cursor": "not-a-cursor"}, 400, "invalid_cursor", "ValidationFailed"),
        ({"limit": "0"}, 400, "validation_error", "ValidationFailed"),
    ],
)
def test_the_history_route_is_observed_the_same_way(
    history_api: HistoryApi,
    handler_log: Any,
    capsys: pytest.CaptureFixture[str],
    query: dict[str, str],
    status: int,
    code: str | None,
    metric: str,
) -> None:
    product = history_api.api.add_product()
    history_api.record(product, 2)
    capsys.readouterr()
    response = history_api.get(product.id, query)
    assert response.status == status, response.body

    (line,) = [json.loads(text) for text in handler_log.getvalue().splitlines()]
    assert line["status"] == status and line.get("code") == code and line["outcome"] == metric
    assert line["product_id"] == product.id and line["company_id"] == product.company_id
    assert line["request_id"] and isinstance(line["latency_ms"], float)
    assert EVENT_TOKEN not in handler_log.getvalue()
    (blob,) = [json.loads(text) for text in capsys.readouterr().out.splitlines() if text.strip()]
    assert metric_names(blob) == [metric]
    assert dimension_names(blob) == DIMENSIONS


@on_moto
def test_a_failure_outside_the_resolver_is_observed(
    api: Api, handler_log: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(event: Any, context: Any) -> Any:
        raise RuntimeError("resolver broke")

    monkeypatch.setattr(handler_module().app, "resolve", broken)
    event = product_event(EVENT_PRODUCT_ID, {"name": PROBE_NAME})
    capsys.readouterr()
    with pytest.raises(RuntimeError, match="resolver broke"):
        api.invoke(event)
    (line,) = [json.loads(text) for text in handler_log.getvalue().splitlines()]
    assert (line["level"], line["message"], line["status"], line["outcome"]) == (
        "ERROR",
        "unexpected error",
        500,
        "InternalError",
    )
    assert "resolver broke" in line["exception"]
    (blob,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert metric_names(blob) == ["InternalError"]


# --- secrets ---------------------------------------------------------------------------------------------------------


@on_moto
def test_no_credential_in_any_log_even_at_debug(
    api: Api,
    observe: Observe,
    boto3_session: boto3.Session,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An exception whose message carries the Authorization header (as a dict, a repr, a header line), at DEBUG on
    every logger, with the function's AWS credentials and session token in play: none of them is written."""
    caplog.set_level(logging.DEBUG)
    oauth_token = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8"
    access_key, session_token = "AKIAOBSERVABILITY000", "IQoJb3JpZ2luX2VjEObservabilitySessionToken"
    client = boto3_session.client(
        "dynamodb",
        region_name="eu-west-1",
        aws_access_key_id=access_key,
        aws_secret_access_key="observability-secret-access-key",
        aws_session_token=session_token,
    )
    runtime = Runtime.build(api.settings, client)
    monkeypatch.setattr(handler_module(), "get_runtime", lambda: runtime)
    api.add_product(EVENT_PRODUCT_ID, model="OBS-1")
    # a successful request: botocore signs it with the credentials above
    assert observe(product_event(EVENT_PRODUCT_ID, {"name": "signed"})).response.status == 200

    leak = (
        f"headers={{'authorization': 'Bearer {EVENT_TOKEN}', 'x-amz-security-token': '{session_token}'}}\n"
        f"Authorization: Bearer {oauth_token}\n"
        f"key {EVENT_TOKEN} in a sentence"
    )
    monkeypatch.setattr(ProductUpdater, "update", _explode(leak))
    failed = observe(product_event(EVENT_PRODUCT_ID, {"name": "boom"}))
    assert failed.response.status == 500
    assert failed.line["exception_name"] == "RuntimeError"
    assert observability.REDACTED in failed.line["exception"]  # the line was written, masked

    captured = capsys.readouterr()
    # pytest hangs its capture handler on every logger, the function's own too, where it sees records before the
    # function's (redacting) handler formats them; in Lambda that logger has no other handler and does not propagate.
    others = [record for record in caplog.records if record.name != observability.logger.name]
    assert any(record.name.startswith("botocore") for record in others) is False, "botocore logged below WARNING"
    everything = "\n".join(
        [failed.log_text, captured.out, captured.err, *(f"{r.getMessage()} {r.exc_text} {r.args}" for r in others)]
    )
    for secret in (EVENT_TOKEN, EVENT_TOKEN.removeprefix("tp_"), oauth_token, session_token, access_key):
        assert secret not in everything


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("{'Authorization': 'Bearer abcdefghijklmnop1234'}", "abcdefghijklmnop1234"),
        ('{"authorization":"tokentokentoken"}', "tokentokentoken"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
        ("authorization=b'AWS4-HMAC-SHA256 Credential=ASIAABCDEFGHIJKLMNOP/x, Signature=f00d'", "ASIAABCDEFGHIJKLMNOP"),
        ("X-Amz-Security-Token: IQoJsessiontoken", "IQoJsessiontoken"),
        ("the key tp_aB3-dEf_GhIjKlMnOpQrStUvWxYz0123456789abcdefg leaked", "aB3-dEf_GhIjKlMnOpQrStUvWxYz"),
        ("bearer  lower.case-token~with/chars+==", "lower.case-token"),
    ],
)
def test_redact_masks_credentials_in_text(text: str, secret: str) -> None:
    redacted = observability.redact_text(text)
    assert secret not in redacted
    assert observability.REDACTED in redacted


def test_a_line_without_secrets_is_written_as_the_masking_path_would_write_it() -> None:
    line = {"message": "request completed", "status": 200, "tags": ("a", "b"), "when": uuid.UUID(int=7), "n": None}
    assert observability.redacted_json(line) == json.dumps(observability.redact(line), separators=(",", ":"))


@pytest.mark.parametrize(
    "value",
    [
        "Basic\ndXNlcjpwYXNzd29yZA==",
        "x-amz-security-token: FwoGZXIvYXdzEJr",
        {"nested": {"Authorization": "anything"}},
        ["tp_" + "k" * 40],
    ],
)
def test_a_line_that_might_hold_a_secret_is_masked(value: Any) -> None:
    written = observability.redacted_json({"message": "m", "value": value})
    assert "[REDACTED]" in written
    assert written == json.dumps(observability.redact({"message": "m", "value": value}), separators=(",", ":"))


def test_redact_masks_sensitive_keys_and_keeps_the_rest() -> None:
    record = {
        "message": "request completed",
        "credential_id": "cred_0123",
        "headers": {"Authorization": "anything at all", "Content-Type": "application/json"},
        "items": [{"password": "p"}, {"token": "t"}, "plain"],
        "count": 3,
        "empty": None,
    }
    assert observability.redact(record) == {
        "message": "request completed",
        "credential_id": "cred_0123",
        "headers": {"Authorization": observability.REDACTED, "Content-Type": "application/json"},
        "items": [{"password": observability.REDACTED}, {"token": observability.REDACTED}, "plain"],
        "count": 3,
        "empty": None,
    }


# --- template.yaml -------------------------------------------------------------------------------------------------

FUNCTION = "UpdateProductFunction"
NO_VALUE = {"Ref": "AWS::NoValue"}
TOPIC_ACTIONS = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], NO_VALUE]}


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }


def _metrics_of(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric name, dimensions) of every metric an alarm reads, plain or in metric math."""
    plain = (
        [alarm]
        if "MetricName" in alarm
        else [q["MetricStat"]["Metric"] for q in alarm.get("Metrics", []) if "MetricStat" in q]
    )
    return [
        (metric["Namespace"], metric["MetricName"], {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])})
        for metric in plain
    ]


@pytest.mark.parametrize("logical_id", [FUNCTION, "GetProductHistoryFunction"])
def test_the_function_is_traced_and_configured_for_metrics(cfn_template: dict[str, Any], logical_id: str) -> None:
    function = cfn_template["Resources"][logical_id]["Properties"]
    tracing = function.get("Tracing", cfn_template.get("Globals", {}).get("Function", {}).get("Tracing"))
    assert tracing == "Active"
    variables = function["Environment"]["Variables"]
    # the values conftest gives the tests, so the tests see what the deployed function does
    assert variables["POWERTOOLS_SERVICE_NAME"] == "products-api"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "ProductsApi"
    assert variables["ENVIRONMENT_NAME"] == {"Ref": "AWS::StackName"}


def test_alarms_cover_errors_throttles_and_latency(cfn_template: dict[str, Any]) -> None:
    alarms = _alarms(cfn_template)
    read = {name: _metrics_of(alarm) for name, alarm in alarms.items()}
    api = {"ApiId": {"Ref": "ProductsHttpApi"}}

    (error_rate,) = [name for name, metrics in read.items() if ("AWS/ApiGateway", "5xx", api) in metrics]
    assert ("AWS/ApiGateway", "Count", api) in read[error_rate]
    expression = next(q["Expression"] for q in alarms[error_rate]["Metrics"] if q.get("ReturnData"))
    assert "errors / requests" in str(expression)
    assert alarms[error_rate]["Threshold"] == {"Ref": "ServerErrorRateThreshold"}

    function = {"FunctionName": {"Ref": FUNCTION}}
    (throttles,) = [name for name, metrics in read.items() if ("AWS/Lambda", "Throttles", function) in metrics]
    assert alarms[throttles]["Threshold"] == {"Ref": "ThrottlesThreshold"}

    table_alarm_metrics = [metric for metrics in read.values() for metric in metrics if metric[0] == "AWS/DynamoDB"]
    throttled_tables = {metric[2]["TableName"]["Ref"] for metric in table_alarm_metrics}
    assert throttled_tables == {"ProductsTable", "IdempotencyTable", "CredentialsTable", "HistoryTable"}
    # the history table is written by the stream function and read by the history route
    history_metrics = {metric[1] for metric in table_alarm_metrics if metric[2]["TableName"]["Ref"] == "HistoryTable"}
    assert history_metrics == {"ReadThrottleEvents", "WriteThrottleEvents"}

    (latency,) = [name for name, metrics in read.items() if ("AWS/ApiGateway", "Latency", api) in metrics]
    assert alarms[latency]["ExtendedStatistic"] == "p99"
    assert alarms[latency]["Threshold"] == {"Ref": "LatencyP99ThresholdMs"}

    # any message in the stream function's dead-letter queue is a write without history or event
    dead_letters = {"QueueName": {"Fn::GetAtt": ["ProductChangesDeadLetterQueue", "QueueName"]}}
    (dead_letter,) = [
        name
        for name, metrics in read.items()
        if ("AWS/SQS", "ApproximateNumberOfMessagesVisible", dead_letters) in metrics
    ]
    assert alarms[dead_letter]["Threshold"] == 1

    # the stream function: whole invocations failing, and records waiting behind it
    stream_function = {"FunctionName": {"Ref": "ProductChangesFunction"}}
    (stream_errors,) = [name for name, metrics in read.items() if ("AWS/Lambda", "Errors", stream_function) in metrics]
    assert (alarms[stream_errors]["Statistic"], alarms[stream_errors]["Period"]) == ("Sum", 300)
    assert alarms[stream_errors]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarms[stream_errors]["Threshold"] == {"Ref": "ProductChangesErrorsThreshold"}
    assert cfn_template["Parameters"]["ProductChangesErrorsThreshold"]["Default"] == 1
    (iterator_age,) = [
        name for name, metrics in read.items() if ("AWS/Lambda", "IteratorAge", stream_function) in metrics
    ]
    age = alarms[iterator_age]
    # the maximum of each minute, in 3 of 5 minutes
    assert (age["Statistic"], age["Period"]) == ("Maximum", 60)
    assert (age["DatapointsToAlarm"], age["EvaluationPeriods"]) == (3, 5)
    assert age["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert age["Threshold"] == {"Ref": "ProductChangesIteratorAgeThresholdMs"}
    assert cfn_template["Parameters"]["ProductChangesIteratorAgeThresholdMs"]["Default"] == 60000

    for name, alarm in alarms.items():
        threshold = alarm["Threshold"]
        if isinstance(threshold, dict):
            assert "Default" in cfn_template["Parameters"][threshold["Ref"]], f"{name}: {threshold} needs a default"
        assert alarm["TreatMissingData"] == "notBreaching", name


def test_alarm_notifications_only_with_a_topic(cfn_template: dict[str, Any]) -> None:
    topic = cfn_template["Parameters"]["AlarmTopicArn"]
    assert topic["Type"] == "String" and topic["Default"] == ""
    assert cfn_template["Conditions"]["HasAlarmTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}
    alarms = _alarms(cfn_template)
    assert len(alarms) >= 7
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == TOPIC_ACTIONS, name
        assert alarm["OKActions"] == TOPIC_ACTIONS, name
