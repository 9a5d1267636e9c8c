"""The history checker through the local runner over HTTP (local/products_api_local/stress/over_http.py,
`make stress ARGS=--http`): the runner's worker containers, its HTTP server and its limiter under concurrent clients,
checked against the products table's stream and final state, as the in-process run is
(tests/contract/test_history_checker.py).
"""

from __future__ import annotations

import os
import socket
from collections import Counter

import pytest
from products_api_local import stress
from products_api_local.stress import Request
from products_api_local.stress.over_http import HTTP_FAULTS, HttpTransport, run_over_runner

# Short: the runner's start is most of it; long enough that both idempotency-record faults come up.
PROCESSES = 2
DURATION_SECONDS = 10
# The variables stress.main sets in its own environment (the clients' credentials, region and Powertools settings).
MAIN_SETS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
)


@pytest.mark.dynamodb_local
def test_concurrent_clients_over_http_leave_a_true_history() -> None:
    report = run_over_runner(PROCESSES, DURATION_SECONDS, seed_value=3)
    print(report.summary())
    assert report.violations == [], report.summary()
    statuses = Counter(entry.answer.status for entry in report.entries)
    # the requests were answered: writes, the runner's limiter let the checker's company through (its plan), and
    # refusals came back as the API's errors
    assert statuses[200] > 10, report.summary()
    assert statuses[429] == 0 and statuses[None] == 0, report.summary()
    assert statuses[400] + statuses[404] + statuses[409] + statuses[412] > 0, report.summary()
    # answered by the runner's HTTP server, not by a handler called in-process (which sets no Date header)
    assert all(entry.answer.header("Date") for entry in report.entries), report.summary()
    # over HTTP only the faults a client can cause from outside: the idempotency records' loss and expiry
    assert set(report.faults) <= {*HTTP_FAULTS, "none"}, report.faults
    assert report.faults["lost_record"] + report.faults["expired_record"] > 0, report.faults


def test_a_request_nobody_answers_is_recorded_as_lost() -> None:
    # a port nobody listens on: the transport answers "no answer", which the checker treats as a lost invocation
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = HttpTransport(f"http://127.0.0.1:{port}")
    answer = transport(Request(0, 1, "field", "0" * 24, {"name": "x"}, {}))
    assert answer.status is None


def test_a_base_url_without_its_endpoint_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in MAIN_SETS:  # stress.main sets these for its clients: back as they were after the test
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    # the runner's URL alone does not say where its tables are: refused before anything starts
    assert stress.main(["--http", "--base-url", "http://127.0.0.1:1", "--duration", "1"]) == 2
    assert "--base-url and --endpoint go together" in capsys.readouterr().err
