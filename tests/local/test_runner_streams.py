"""The local runner's side of Lambda's DynamoDB event source and of EventBridge, without DynamoDB Local: the template's
stream sources, event filtering, retries of failed batches, one invocation at a time, and the PutEvents sink.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest
from products_api_local import runner as runner_module
from products_api_local.runner import (
    EventsSink,
    FunctionSpec,
    LocalFunction,
    StreamPoller,
    function_specs,
    local_table_names,
)
from products_api_local.streams import (
    FilterPattern,
    StreamReader,
    StreamSource,
    StreamSourceError,
    first_failed_sequence_number,
    stream_sources_from_template,
)
from products_api_local.template import load_template
from support import ROOT

TEMPLATE = load_template()


def record(sequence_number: str, sort_key: str = "PRODUCT#1", event_name: str = "MODIFY") -> dict[str, Any]:
    return {
        "eventID": sequence_number,
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {"pk": {"S": "COMPANY#A"}, "sk": {"S": sort_key}}, "SequenceNumber": sequence_number},
    }


def test_the_template_feeds_the_products_stream_to_the_changes_function() -> None:
    (source,) = stream_sources_from_template(TEMPLATE)
    assert (source.function, source.table) == ("ProductChangesFunction", "ProductsTable")
    assert source.reports_item_failures
    assert source.maximum_retry_attempts == 10
    assert source.selects(record("1"))
    assert source.selects(record("1", event_name="INSERT"))
    assert not source.selects(record("1", event_name="REMOVE"))
    assert not source.selects(record("1", sort_key="MODEL#li-48v"))


def test_the_event_bus_resolves_to_its_local_name() -> None:
    specs = function_specs(TEMPLATE, ROOT, local_table_names(TEMPLATE), "eu-west-1")
    assert specs["ProductChangesFunction"].environment["EVENT_BUS_NAME"] == "products-api-local-products"
    assert specs["ProductChangesFunction"].environment["HISTORY_TABLE_NAME"] == "HistoryTable"


@pytest.mark.parametrize(
    ("pattern", "selected"),
    [
        ({"eventName": ["MODIFY"]}, True),
        ({"eventName": ["INSERT"]}, False),
        ({"dynamodb": {"Keys": {"sk": {"S": [{"prefix": "PRODUCT#"}]}}}}, True),
        ({"dynamodb": {"Keys": {"sk": {"S": [{"suffix": "#2"}]}}}}, False),
        ({"eventName": [{"anything-but": ["REMOVE"]}]}, True),
        ({"dynamodb": {"NewImage": [{"exists": False}]}}, True),
        ({"dynamodb": {"NewImage": [{"exists": True}]}}, False),
        ({"userIdentity": {"type": ["Service"]}}, False),
    ],
)
def test_filter_patterns(pattern: dict[str, Any], selected: bool) -> None:
    assert FilterPattern.parse("test", json.dumps(pattern)).matches(record("1")) is selected


def test_a_filter_the_runner_cannot_apply_is_refused() -> None:
    with pytest.raises(StreamSourceError, match="numeric"):
        FilterPattern.parse("Filters[0]", '{"dynamodb": {"SizeBytes": [{"numeric": [">", 10]}]}}')
    with pytest.raises(StreamSourceError, match="list of values"):
        FilterPattern.parse("Filters[0]", '{"eventName": "MODIFY"}')


def test_lambda_resumes_from_the_first_reported_failure() -> None:
    records = [record("10"), record("11"), record("12")]
    assert first_failed_sequence_number({"batchItemFailures": []}, records) is None
    failures = [{"itemIdentifier": "12"}, {"itemIdentifier": "11"}]
    assert first_failed_sequence_number({"batchItemFailures": failures}, records) == "11"
    # an identifier of no record in the batch fails all of it
    assert first_failed_sequence_number({"batchItemFailures": [{"itemIdentifier": "99"}]}, records) == "10"


class _ScriptedFunction:
    """A handler whose answers are scripted; it records every batch it was given."""

    def __init__(self, *answers: Any) -> None:
        self.batches: list[list[str]] = []
        self._answers = list(answers)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.batches.append([item["dynamodb"]["SequenceNumber"] for item in event["Records"]])
        answer = self._answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def poller(handler: _ScriptedFunction, retries: int, logged: list[str]) -> StreamPoller:
    source = StreamSource(
        function="ProductChangesFunction",
        table="ProductsTable",
        filters=stream_sources_from_template(TEMPLATE)[0].filters,
        reports_item_failures=True,
        maximum_retry_attempts=retries,
    )
    spec = FunctionSpec("ProductChangesFunction", ROOT, "m.f", 30, 256)
    # the reader is not used by deliver(): the batch is handed in
    reader = StreamReader(boto3.client("dynamodbstreams", region_name="eu-west-1"), "arn", "eu-west-1")
    return StreamPoller(source, LocalFunction(spec, handler), reader, "eu-west-1", logged.append)


def test_a_partial_failure_is_retried_from_the_failed_record(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "_STREAM_RETRY_SECONDS", 0)
    handler = _ScriptedFunction({"batchItemFailures": [{"itemIdentifier": "12"}]}, {"batchItemFailures": []})
    logged: list[str] = []
    poller(handler, retries=3, logged=logged).deliver(
        [record("10"), record("11", sort_key="MODEL#x"), record("12"), record("13")]
    )
    # the lock record never reaches the function; the retry starts at the failed record
    assert handler.batches == [["10", "12", "13"], ["12", "13"]]
    assert not any("gave up" in line for line in logged)


def test_a_batch_that_keeps_failing_is_given_up_after_the_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "_STREAM_RETRY_SECONDS", 0)
    handler = _ScriptedFunction(RuntimeError("boom"), RuntimeError("boom"), RuntimeError("never reached"))
    logged: list[str] = []
    poller(handler, retries=1, logged=logged).deliver([record("10"), record("11")])
    assert handler.batches == [["10", "11"], ["10", "11"]]
    assert any("RuntimeError: boom" in line for line in logged)
    assert any("gave up on 2 record(s) from sequence number 10" in line for line in logged)


def test_a_batch_with_nothing_selected_invokes_nothing() -> None:
    handler = _ScriptedFunction()
    poller(handler, retries=1, logged=[]).deliver([record("10", sort_key="MODEL#x")])
    assert handler.batches == []


def test_functions_never_run_at_once() -> None:
    """Powertools' resolvers share the current event across instances: the HTTP and the stream functions, which run
    in one process here, must take turns.
    """
    api = LocalFunction(FunctionSpec("UpdateProductFunction", ROOT, "m.f", 3, 128), _ScriptedFunction())
    stream = LocalFunction(FunctionSpec("ProductChangesFunction", ROOT, "m.f", 3, 128), _ScriptedFunction())
    assert api.lock is stream.lock


def test_the_events_sink_takes_put_events_and_prints_them() -> None:
    logged: list[str] = []
    done = threading.Event()

    def log(line: str) -> None:
        logged.append(line)
        done.set()

    sink = EventsSink(log)
    sink.start()
    try:
        client = boto3.client("events", region_name="eu-west-1", endpoint_url=sink.endpoint_url)
        detail = {"changeId": "A/1/2", "version": 2}
        response = client.put_events(
            Entries=[
                {
                    "Source": "products-api",
                    "DetailType": "ProductUpdated",
                    "Detail": json.dumps(detail),
                    "EventBusName": "bus",
                }
            ]
        )
        assert response["FailedEntryCount"] == 0
        assert len(response["Entries"]) == 1 and response["Entries"][0]["EventId"]
        assert logged == [f"event ProductUpdated on bus: {json.dumps(detail)}"]
        with pytest.raises(client.exceptions.ClientError, match="not served locally"):
            client.list_event_buses()
    finally:
        sink.stop()
