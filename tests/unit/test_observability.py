"""Operations: one JSON log line and one outcome metric (CloudWatch EMF) per request, whatever its outcome; no secret
in any log, even at DEBUG; X-Ray tracing, the alarms and their optional SNS topic in template.yaml.

Logs are read from the handler's Powertools Logger (the `handler_log` fixture), metrics from stdout, where Powertools
prints each EMF blob (capsys). What is observed does not depend on the database, so these run on moto only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from observability_support import Observe, explode
from products_api.api import catalogue, observability
from products_api.api.catalogue import error_codes
from products_api.errors import StoreUnavailable
from products_api.products.rules import ProductUpdater
from support import (
    EVENT_PRODUCT_ID,
    EVENT_TOKEN,
    Api,
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


def metric_names(blob: dict[str, Any]) -> list[str]:
    return [metric["Name"] for directive in blob["_aws"]["CloudWatchMetrics"] for metric in directive["Metrics"]]


def dimension_names(blob: dict[str, Any]) -> set[str]:
    return {
        name for directive in blob["_aws"]["CloudWatchMetrics"] for names in directive["Dimensions"] for name in names
    }


# --- each outcome: its log line and its metric ---------------------------------------------------------------------


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
        lambda api, mp: _failing(mp, explode("simulated failure")),
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
def test_a_failure_outside_the_router_is_observed(
    api: Api, handler_log: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(event: Any, request_log: Any) -> Any:
        raise RuntimeError("router broke")

    monkeypatch.setattr(handler_module().routes, "resolve", broken)
    event = product_event(EVENT_PRODUCT_ID, {"name": PROBE_NAME})
    capsys.readouterr()
    with pytest.raises(RuntimeError, match="router broke"):
        api.invoke(event)
    (line,) = [json.loads(text) for text in handler_log.getvalue().splitlines()]
    assert (line["level"], line["message"], line["status"], line["outcome"]) == (
        "ERROR",
        "unexpected error",
        500,
        "InternalError",
    )
    assert "router broke" in line["exception"]
    (blob,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert metric_names(blob) == ["InternalError"]
