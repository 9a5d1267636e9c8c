"""The request's log line and EMF blob are written directly (issue: warm overhead), not through the logging module and
Powertools' Metrics: these hold both to what Powertools itself writes for the same data, key order included.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any, cast

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit
from products_api.api import observability
from products_api.api.responses import Outcome
from products_api.core.settings import ApiSettings
from support import FakeContext

TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}[+-]\d{4}")
# None is dropped, text is not escaped to ASCII, a secret is masked: the cases where the writer could drift
FIELDS: dict[str, Any] = {
    "request_id": "req-1",
    "product_id": None,
    "status": 200,
    "code": None,
    "outcome": "ProductUpdated",
    "replayed": False,
    "latency_ms": 3.14,
    "note": "Grüße, 製品",
}


@pytest.fixture
def logger_stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The observability Logger writing to a buffer, with one request's keys set as a request sets them."""
    handler = observability.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE_HEADER)
    event = {"requestContext": {"requestId": "req-1"}}
    observability._begin(event, cast("Any", FakeContext()))
    observability.logger.append_keys(company_id="ACME", credential_id="cred_1")
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def _write_info_line(fields: dict[str, Any], caller: Any) -> None:
    """The request's line as `_report` writes it when the Logger's stream is not stdout."""
    handler = observability.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    text = observability.info_line("request completed", fields, handler, caller)
    if text is not None:
        handler.stream.write(text + "\n")


def _both_lines(buffer: io.StringIO, fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    _write_info_line(fields, sys._getframe(0))
    observability.logger.info("request completed", extra=fields)
    direct, through_logging = (json.loads(line) for line in buffer.getvalue().splitlines())
    return direct, through_logging


@pytest.mark.parametrize(
    "fields",
    [FIELDS, {**FIELDS, "note": "Authorization: Bearer abc.def"}, {"request_id": "", "status": 400}],
    ids=["plain", "secret", "few"],
)
def test_the_line_is_the_loggers_line(logger_stream: io.StringIO, fields: dict[str, Any]) -> None:
    direct, through_logging = _both_lines(logger_stream, fields)
    # the same keys in the same order and the same values, but for when and where each was written
    assert list(direct) == list(through_logging)
    assert {k: v for k, v in direct.items() if k not in {"timestamp", "location"}} == {
        k: v for k, v in through_logging.items() if k not in {"timestamp", "location"}
    }
    assert TIMESTAMP.fullmatch(direct["timestamp"]) and TIMESTAMP.fullmatch(through_logging["timestamp"])
    assert direct["location"].startswith("_both_lines:") and through_logging["location"].startswith("_both_lines:")
    assert direct["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"


def test_the_line_is_masked_as_the_loggers(logger_stream: io.StringIO) -> None:
    direct, _ = _both_lines(logger_stream, {"note": "Authorization: Bearer abc.def"})
    assert "abc.def" not in logger_stream.getvalue()
    assert "[REDACTED]" in direct["note"]


def test_no_line_below_the_loggers_level(logger_stream: io.StringIO) -> None:
    previous = observability.logger.log_level
    observability.logger.setLevel("WARNING")
    try:
        _write_info_line(FIELDS, sys._getframe(0))
    finally:
        observability.logger.setLevel(previous)
    assert logger_stream.getvalue() == ""


def test_a_requests_keys_are_the_ones_structure_logs_sets() -> None:
    """`_begin` writes the request's keys to the formatter itself: the same keys, values and order as Powertools'
    `structure_logs` (what `inject_lambda_context(clear_state=True)` calls), with the last request's keys dropped."""
    event = {"requestContext": {"requestId": "req-2"}}
    context = cast("Any", FakeContext())
    formatter = cast("LambdaPowertoolsFormatter", observability.logger.registered_formatter)
    try:
        observability.logger.append_keys(company_id="LEFT-OVER")
        formatter.thread_safe_append_keys(thread_key="LEFT-OVER")
        observability._begin(event, context)
        ours = (dict(formatter.get_current_keys()), dict(formatter.thread_safe_get_current_keys()))

        observability.logger.append_keys(company_id="LEFT-OVER")
        formatter.thread_safe_append_keys(thread_key="LEFT-OVER")
        cold_start = ours[0]["cold_start"]
        observability.logger.structure_logs(
            cold_start=cold_start,
            function_name=context.function_name,
            function_memory_size=context.memory_limit_in_mb,
            function_arn=context.invoked_function_arn,
            function_request_id=context.aws_request_id,
            correlation_id="req-2",
        )
        powertools = (dict(formatter.get_current_keys()), dict(formatter.thread_safe_get_current_keys()))
    finally:
        formatter.thread_safe_clear_keys()
    assert list(ours[0].items()) == list(powertools[0].items())
    assert ours[1] == powertools[1] == {}
    assert "company_id" not in ours[0] and ours[0]["service"] == observability.logger.service


def _settings(service: str | None) -> ApiSettings:
    return ApiSettings.model_validate(
        {
            "products_table_name": "products",
            "credentials_table_name": "credentials",
            "POWERTOOLS_METRICS_NAMESPACE": "ProductsApi",
            "environment_name": "prod",
            "POWERTOOLS_SERVICE_NAME": service,
        }
    )


@pytest.mark.parametrize("service", ["products-api", None])
@pytest.mark.parametrize("counted", [[], ["RateLimiterFailed"], ["RateLimiterFailed", "ProductUpdated"]])
def test_the_blob_is_the_metrics_blob(
    service: str | None, counted: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if service is None:
        monkeypatch.delenv("POWERTOOLS_SERVICE_NAME", raising=False)
    else:
        monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", service)
    capsys.readouterr()
    for name in counted:
        observability.count_metric(name)
    print(observability._metrics_blob(_settings(service), "req-1", "ProductUpdated"))

    metrics = Metrics(namespace="ProductsApi")
    metrics.add_dimension(name="environment", value="prod")
    for name in ["ProductUpdated", *counted]:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    metrics.add_metadata(key="request_id", value="req-1")
    metrics.flush_metrics()

    direct, powertools = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    for blob in (direct, powertools):
        assert isinstance(blob["_aws"].pop("Timestamp"), int)
    assert json.dumps(direct) == json.dumps(powertools)  # key order included
    assert observability._container.counted == []  # the next request starts with nothing counted


def test_each_blob_carries_its_own_request_id_and_time(capsys: pytest.CaptureFixture[str]) -> None:
    """The blob's text is kept between requests (per set-up and metrics): only its timestamp and request id change,
    and a request id is encoded as JSON encodes it, whatever it holds."""
    settings = _settings("products-api")
    request_ids = ["req-1", 'quote " and \\ backslash', "Grüße \u2028 製品", "req-1"]
    capsys.readouterr()
    for request_id in request_ids:
        print(observability._metrics_blob(settings, request_id, "ProductUpdated"))
    print(observability._metrics_blob(settings, "req-5", "IdempotentReplay"))
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [blob["request_id"] for blob in blobs] == [*request_ids, "req-5"]
    assert all(isinstance(blob["_aws"]["Timestamp"], int) for blob in blobs)
    assert [blob["_aws"]["CloudWatchMetrics"][0]["Metrics"] for blob in blobs] == [
        *[[{"Name": "ProductUpdated", "Unit": "Count"}]] * 4,
        [{"Name": "IdempotentReplay", "Unit": "Count"}],
    ]
    assert "ProductUpdated" not in blobs[-1] and blobs[-1]["IdempotentReplay"] == [1.0]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"utc": True},
        {"datefmt": "%d/%m/%Y %H:%M:%S.%F"},
        {"datefmt": "%H:%M:%S"},
        {"datefmt": "%H:%M:%S %%F"},
        {"datefmt": "%Y-%m-%dT%H:%M:%S.%F%z", "use_datetime_directive": True},
        {"use_rfc3339": True},
    ],
    ids=["default", "utc", "custom", "no-ms", "escaped-percent", "datetime-directive", "rfc3339"],
)
def test_the_timestamp_is_the_formatters(options: dict[str, Any]) -> None:
    """The line's timestamp keeps each second's text: every millisecond of it still reads as formatTime writes it."""
    formatter = LambdaPowertoolsFormatter(**options)
    timestamps = observability._Timestamps()
    base_ns = 1_796_193_612 * 1_000_000_000
    # milliseconds 0 and 999, a second boundary, and a later second again (the kept text must move on)
    for offset_ns in (0, 999_000_000, 1_000_000_000, 1_000_000_001, 1_500_250_000, 61_123_000_000, 1_000_000):
        now_ns = base_ns + offset_ns
        milliseconds = (now_ns % 1_000_000_000) // 1_000_000
        expected = formatter.formatTime(
            cast("logging.LogRecord", observability._Stamp(now_ns / 1e9, milliseconds + 0.0))
        )
        assert timestamps.text(formatter, now_ns) == expected


class _Writes(io.StringIO):
    """A stream that keeps each write apart."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def _request(request_id: str, status: int) -> None:
    """One request through `observed`, answered `status`."""
    event = {"requestContext": {"requestId": request_id}, "pathParameters": {"id": "b" * 24}}

    def answer(request_log: observability.RequestLog) -> str:
        request_log.answered(Outcome(status, "{}", code=None if status < 400 else "not_found"))
        return "answered"

    observability.observed(event, cast("Any", FakeContext()), _settings("products-api"), answer)


@pytest.mark.parametrize("status", [200, 404])
def test_a_requests_line_and_blob_go_to_stdout_in_one_write(status: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """On Lambda the Logger writes to stdout, where the runtime flushes every write: the line and the blob go in one."""
    stream = _Writes()
    handler = observability.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    monkeypatch.setattr(sys, "stdout", stream)
    try:
        _request("req-9", status)
    finally:
        handler.setStream(previous)
    assert len(stream.writes) == 1
    line, blob = (json.loads(text) for text in stream.getvalue().splitlines())
    assert line["message"] == ("request completed" if status < 400 else "request refused")
    assert (line["request_id"], line["status"], line["location"].split(":")[0]) == ("req-9", status, "_report")
    assert blob["request_id"] == "req-9" and blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]


def test_a_logger_writing_elsewhere_keeps_its_line_and_stdout_gets_the_blob(capsys: pytest.CaptureFixture[str]) -> None:
    buffer = io.StringIO()
    handler = observability.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(buffer)
    capsys.readouterr()
    try:
        _request("req-10", 200)
    finally:
        handler.setStream(previous)
    (line,) = (json.loads(text) for text in buffer.getvalue().splitlines())
    (blob,) = (json.loads(text) for text in capsys.readouterr().out.splitlines())
    assert line["request_id"] == blob["request_id"] == "req-10"
    assert "_aws" in blob and "_aws" not in line
