"""The local runner's side of Lambda's DynamoDB event source and of EventBridge, without DynamoDB Local: the template's
stream sources, event filtering, retries of failed batches, one invocation at a time, and the PutEvents sink.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from products_api_local.functions.containers import InProcessFunction
from products_api_local.sinks.eventbridge import EventsSink
from products_api_local.streams.checkpoints import Checkpoints
from products_api_local.streams.dead_letters import DeadLetters
from products_api_local.streams.poller import StreamPoller, first_failed_sequence_number
from products_api_local.streams.quirks import attribute_value, event_source_arn, normalise_record
from products_api_local.streams.reader import StreamReader
from products_api_local.streams.sources import (
    FilterPattern,
    StreamSource,
    StreamSourceError,
    stream_sources_from_template,
)
from products_api_local.template.document import load_template
from products_api_local.template.functions import function_specs, local_table_names
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
    assert source.bisect_on_error
    assert source.batch_size == 100
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


def poller(
    handler: _ScriptedFunction, retries: int, logged: list[str], tmp_path: Path, *, bisect: bool = False
) -> StreamPoller:
    source = StreamSource(
        function="ProductChangesFunction",
        table="ProductsTable",
        filters=stream_sources_from_template(TEMPLATE)[0].filters,
        reports_item_failures=True,
        maximum_retry_attempts=retries,
        bisect_on_error=bisect,
    )
    # the reader is not used by deliver(): the batch is handed in
    reader = StreamReader(boto3.client("dynamodbstreams", region_name="eu-west-1"), "arn", "eu-west-1")
    return StreamPoller(
        source,
        InProcessFunction("ProductChangesFunction", handler, 30),
        reader,
        logged.append,
        checkpoints=Checkpoints(tmp_path / "checkpoints.json"),
        dead_letters=DeadLetters(tmp_path / "dead-letters.jsonl"),
        retry_seconds=0,
    )


def test_a_partial_failure_is_retried_from_the_failed_record(tmp_path: Path) -> None:
    handler = _ScriptedFunction({"batchItemFailures": [{"itemIdentifier": "12"}]}, {"batchItemFailures": []})
    logged: list[str] = []
    stream = poller(handler, retries=3, logged=logged, tmp_path=tmp_path)
    assert stream.deliver([record("10"), record("11", sort_key="MODEL#x"), record("12"), record("13")], "shard-1")
    # the lock record never reaches the function; the retry starts at the failed record
    assert handler.batches == [["10", "12", "13"], ["12", "13"]]
    assert not any("gave up" in line for line in logged)
    assert stream.dead_letters.read() == []
    # the whole batch is done, the filtered-out record included
    assert Checkpoints(tmp_path / "checkpoints.json").positions() == {"shard-1": "13"}


def test_a_batch_that_keeps_failing_goes_to_the_dead_letter_file_after_the_retries(tmp_path: Path) -> None:
    handler = _ScriptedFunction(RuntimeError("boom"), RuntimeError("boom"), RuntimeError("never reached"))
    logged: list[str] = []
    stream = poller(handler, retries=1, logged=logged, tmp_path=tmp_path)
    stream.deliver([record("10"), record("11")], "shard-1")
    assert handler.batches == [["10", "11"], ["10", "11"]]
    (given_up,) = [line for line in logged if "gave up" in line]
    assert "gave up on 2 record(s) (sequence number 10, 11) after 2 attempt(s)" in given_up
    assert "RuntimeError: boom" in given_up
    letters = stream.dead_letters.read()
    assert [letter["sequenceNumber"] for letter in letters] == ["10", "11"]
    assert letters[0]["record"] == record("10") and "RuntimeError: boom" in letters[0]["reason"]
    assert letters[0]["attempts"] == 2 and letters[0]["shardId"] == "shard-1"


class _Poisoned:
    """Fails every batch that holds the poisoned record; records every record it processed, in order."""

    def __init__(self, poisoned: str) -> None:
        self.poisoned = poisoned
        self.processed: list[str] = []
        self.invocations = 0

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.invocations += 1
        numbers = [item["dynamodb"]["SequenceNumber"] for item in event["Records"]]
        if self.poisoned in numbers:
            raise ValueError(f"cannot read record {self.poisoned}")
        self.processed.extend(numbers)
        return {"batchItemFailures": []}


def test_bisection_isolates_a_poisoned_record_and_every_other_one_is_processed_in_order(tmp_path: Path) -> None:
    handler = _Poisoned("15")
    logged: list[str] = []
    stream = poller(handler, retries=2, logged=logged, tmp_path=tmp_path, bisect=True)  # type: ignore[arg-type]
    batch = [record(str(number)) for number in range(10, 20)]
    assert stream.deliver(batch, "shard-1")
    assert handler.processed == [str(number) for number in range(10, 20) if number != 15]
    (letter,) = stream.dead_letters.read()
    assert letter["sequenceNumber"] == "15" and "cannot read record 15" in letter["reason"]
    # printed once, with its reason
    assert sum("gave up" in line for line in logged) == 1
    assert Checkpoints(tmp_path / "checkpoints.json").get("shard-1") == "19"


def test_a_batch_with_nothing_selected_invokes_nothing(tmp_path: Path) -> None:
    handler = _ScriptedFunction()
    stream = poller(handler, retries=1, logged=[], tmp_path=tmp_path)
    stream.deliver([record("10", sort_key="MODEL#x")], "shard-1")
    assert handler.batches == []
    assert stream.checkpoints.get("shard-1") == "10"


def test_a_checkpoint_survives_a_restart(tmp_path: Path) -> None:
    first = Checkpoints(tmp_path / "cp.json")
    first.advance("shard-1", "000000000000000000007")
    first.advance("shard-2", "000000000000000000009")
    assert Checkpoints(tmp_path / "cp.json").positions() == {
        "shard-1": "000000000000000000007",
        "shard-2": "000000000000000000009",
    }
    (tmp_path / "bad.json").write_text("[1]")
    with pytest.raises(ValueError, match="delete it"):
        Checkpoints(tmp_path / "bad.json")


# --- DynamoDB Local's quirks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "aws"),
    [
        ({}, {"M": {}}),
        ({"M": {"inner": {}}}, {"M": {"inner": {"M": {}}}}),
        ({"L": []}, {"L": []}),
        ({"L": [{}, {"L": []}, {"L": [{}]}]}, {"L": [{"M": {}}, {"L": []}, {"L": [{"M": {}}]}]}),
        (
            {"M": {"a": {"M": {"b": {}}}, "c": {"L": [{}]}}},
            {"M": {"a": {"M": {"b": {"M": {}}}}, "c": {"L": [{"M": {}}]}}},
        ),
        ({"S": ""}, {"S": ""}),
        ({"N": "1.5"}, {"N": "1.5"}),
        ({"NULL": True}, {"NULL": True}),
    ],
)
def test_empty_maps_at_any_depth_are_written_as_dynamodb_streams_writes_them(local: Any, aws: Any) -> None:
    assert attribute_value(local) == aws


def test_a_record_from_dynamodb_local_reads_as_one_from_aws() -> None:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    local = {
        "eventID": "1",
        "eventName": "MODIFY",
        "awsRegion": "ddblocal",
        "eventSourceARN": "arn:aws:dynamodb:ddblocal:000000000000:table/Products/stream/2026-01-01T00:00:00.000",
        "dynamodb": {
            "Keys": {"pk": {"S": "A"}},
            "NewImage": {"pk": {"S": "A"}, "defaultFieldValues": {}, "tags": {"L": []}, "nested": {"M": {"x": {}}}},
            "OldImage": {"pk": {"S": "A"}, "defaultFieldValues": {"M": {"k": {"S": "v"}}}},
            "SequenceNumber": "1",
        },
    }
    record_ = normalise_record(local, "eu-west-1", "123456789012")
    assert record_["awsRegion"] == "eu-west-1"
    assert record_["eventSourceARN"].startswith("arn:aws:dynamodb:eu-west-1:123456789012:table/Products/stream/")
    # Powertools raised IndexError on `{}`; now the image deserializes
    image = DynamoDBRecord(record_).dynamodb.new_image  # type: ignore[union-attr]
    assert image == {"pk": "A", "defaultFieldValues": {}, "tags": [], "nested": {"x": {}}}
    assert event_source_arn("arn:aws:dynamodb:eu-west-1:1:table/T/stream/L", "x", "y") == (
        "arn:aws:dynamodb:eu-west-1:1:table/T/stream/L"
    )


def test_the_events_sink_takes_put_events_and_prints_them() -> None:
    logged: list[str] = []
    done = threading.Event()

    def log(line: str) -> None:
        logged.append(line)
        done.set()

    sink = EventsSink(log)
    sink.start()
    try:
        client = boto3.client("events", region_name="eu-west-1", endpoint_url=sink.url)
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
