"""What Lambda's DynamoDB event source does around a function, as code the local runner and the tests share.

- `stream_sources_from_template`: each AWS::Serverless::Function's `Type: DynamoDB` events (table, batch size,
  filter patterns, whether it reports partial batch failures, how often a batch is retried).
- `StreamReader`: follows every shard of a table's stream (DynamoDB Local or moto) from its oldest record and hands
  out the new records shaped as Lambda delivers them (`eventSourceARN`, `dynamodb.ApproximateCreationDateTime` as
  epoch seconds, binary values base64-encoded as in the JSON event).
- `FilterPattern`: the event filtering Lambda applies before invoking (the subset of the pattern syntax a template
  can use here: literal values, `prefix`, `suffix`, `anything-but`, `exists`; anything else is refused, not ignored).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams.client import DynamoDBStreamsClient

# Lambda's defaults for a DynamoDB event source when the template leaves them out.
DEFAULT_BATCH_SIZE = 100
DEFAULT_MAXIMUM_RETRY_ATTEMPTS = -1  # retry until the record expires
_OPERATORS = frozenset({"prefix", "suffix", "anything-but", "exists"})


class StreamSourceError(ValueError):
    """template.yaml declares a stream event source the local runner cannot reproduce."""


# --- event filtering -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterPattern:
    """One of FilterCriteria.Filters: a record matches when every field the pattern names matches one of its values."""

    pattern: Mapping[str, Any]

    @classmethod
    def parse(cls, where: str, text: Any) -> FilterPattern:
        if not isinstance(text, str):
            raise StreamSourceError(f"{where}: Pattern must be a literal JSON string, got {text!r}")
        try:
            pattern = json.loads(text)
        except ValueError as exc:
            raise StreamSourceError(f"{where}: Pattern is not JSON: {exc}") from None
        if not isinstance(pattern, dict):
            raise StreamSourceError(f"{where}: Pattern must be a JSON object")
        _check_pattern(where, pattern)
        return cls(pattern)

    def matches(self, record: Mapping[str, Any]) -> bool:
        return _matches(self.pattern, record)


def _check_pattern(where: str, pattern: Mapping[str, Any]) -> None:
    for key, value in pattern.items():
        if isinstance(value, dict):
            _check_pattern(f"{where}.{key}", value)
        elif isinstance(value, list):
            for matcher in value:
                if isinstance(matcher, dict) and (len(matcher) != 1 or next(iter(matcher)) not in _OPERATORS):
                    raise StreamSourceError(
                        f"{where}.{key}: {json.dumps(matcher)} is not supported locally "
                        f"(only literal values and {', '.join(sorted(_OPERATORS))})"
                    )
        else:
            raise StreamSourceError(f"{where}.{key}: a pattern leaf must be a list of values, got {value!r}")


def _matches(pattern: Mapping[str, Any], data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    for key, expected in pattern.items():
        present = key in data
        if isinstance(expected, dict):
            if not present or not _matches(expected, data[key]):
                return False
        elif not any(_leaf_matches(matcher, present, data.get(key)) for matcher in expected):
            return False
    return True


def _leaf_matches(matcher: Any, present: bool, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    if isinstance(matcher, dict):
        ((operator, operand),) = matcher.items()
        if operator == "exists":
            return present is bool(operand)
        if not present:
            return False
        if operator == "prefix":
            return any(isinstance(item, str) and item.startswith(operand) for item in values)
        if operator == "suffix":
            return any(isinstance(item, str) and item.endswith(operand) for item in values)
        excluded = operand if isinstance(operand, list) else [operand]
        return all(item not in excluded for item in values)  # anything-but
    return present and any(item == matcher and type(item) is type(matcher) for item in values)


# --- the template's stream event sources ----------------------------------------------------------------


@dataclass(frozen=True)
class StreamSource:
    function: str  # logical id of the function
    table: str  # logical id of the table whose stream feeds it
    batch_size: int = DEFAULT_BATCH_SIZE
    filters: tuple[FilterPattern, ...] = ()
    reports_item_failures: bool = False
    maximum_retry_attempts: int = DEFAULT_MAXIMUM_RETRY_ATTEMPTS

    def selects(self, record: Mapping[str, Any]) -> bool:
        """Whether Lambda would pass the record to the function (no filter: every record)."""
        return not self.filters or any(pattern.matches(record) for pattern in self.filters)


def stream_sources_from_template(template: Mapping[str, Any]) -> list[StreamSource]:
    sources: list[StreamSource] = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event_id, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
            if not isinstance(event, Mapping) or event.get("Type") != "DynamoDB":
                continue
            where = f"{logical_id}.Events.{event_id}"
            properties: Mapping[str, Any] = event.get("Properties") or {}
            stream = properties.get("Stream")
            target = stream.get("Fn::GetAtt") if isinstance(stream, Mapping) else None
            if isinstance(target, str):
                target = target.split(".", 1)
            if not (isinstance(target, list) and len(target) == 2 and target[1] == "StreamArn"):
                raise StreamSourceError(f"{where}: Stream must be !GetAtt <table>.StreamArn to run locally")
            filters = (properties.get("FilterCriteria") or {}).get("Filters") or []
            sources.append(
                StreamSource(
                    function=logical_id,
                    table=str(target[0]),
                    batch_size=int(properties.get("BatchSize", DEFAULT_BATCH_SIZE)),
                    filters=tuple(
                        FilterPattern.parse(f"{where}.FilterCriteria.Filters[{position}]", item.get("Pattern"))
                        for position, item in enumerate(filters)
                    ),
                    reports_item_failures="ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or []),
                    maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS)),
                )
            )
    return sources


# --- reading a stream -----------------------------------------------------------------------------------


def lambda_record(record: Mapping[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda's event source hands it to the function (a JSON-ready dict)."""
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        # boto3 parses the timestamp; the event carries epoch seconds
        stream["ApproximateCreationDateTime"] = float(int(created.timestamp()))
    for image in ("Keys", "NewImage", "OldImage"):
        if image in stream:
            stream[image] = {name: _json_ready(_aws_empty_maps(value)) for name, value in stream[image].items()}
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": stream,
        "eventSourceARN": stream_arn,
    }


def _aws_empty_maps(value: Any) -> Any:
    """DynamoDB Local 3.x writes an empty map in a stream image as `{}`, where AWS writes `{"M": {}}` (and every
    deserializer expects a type): hand the function what AWS would.
    """
    if not isinstance(value, Mapping):
        return value
    if not value:
        return {"M": {}}
    if "M" in value and isinstance(value["M"], Mapping):
        return {"M": {key: _aws_empty_maps(item) for key, item in value["M"].items()}}
    if "L" in value and isinstance(value["L"], list):
        return {"L": [_aws_empty_maps(item) for item in value["L"]]}
    return value


def _json_ready(value: Any) -> Any:
    """An attribute value with its binaries as base64 text, which is how the JSON event carries them."""
    if isinstance(value, Mapping):
        return {
            key: (
                base64.b64encode(item).decode("ascii")
                if isinstance(item, bytes | bytearray)
                else [base64.b64encode(part).decode("ascii") for part in item]
                if key == "BS"
                else _json_ready(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    return value


def stream_arn(describe_table: Mapping[str, Any], table_name: str) -> str:
    arn = describe_table.get("LatestStreamArn")
    if not isinstance(arn, str):
        raise StreamSourceError(f"table {table_name} has no stream (StreamSpecification missing from template.yaml?)")
    return arn


@dataclass
class ShardBatch:
    shard_id: str
    records: list[dict[str, Any]]


@dataclass
class _Shard:
    parent: str | None
    iterator: str | None
    # The last record handed out: where to continue when an iterator expires.
    last_sequence_number: str | None = None
    closed: bool = False


@dataclass
class StreamReader:
    """Every shard of one stream, each followed from its oldest record (TRIM_HORIZON), children after parents."""

    client: DynamoDBStreamsClient
    arn: str
    region: str
    _shards: dict[str, _Shard] = field(default_factory=dict)

    def batches(self, limit: int = DEFAULT_BATCH_SIZE) -> list[ShardBatch]:
        """The records added since the last call, one batch per shard that has some (at most `limit` each)."""
        self._discover()
        batches = []
        for shard_id, shard in self._shards.items():
            parent = self._shards.get(shard.parent) if shard.parent else None
            if shard.closed or (parent is not None and not parent.closed):
                continue
            records = self._read(shard_id, shard, limit)
            if records:
                batches.append(ShardBatch(shard_id, records))
        return batches

    def records(self, limit: int = DEFAULT_BATCH_SIZE) -> list[dict[str, Any]]:
        """Every record added since the last call, shard after shard."""
        collected: list[dict[str, Any]] = []
        while batches := self.batches(limit):
            for batch in batches:
                collected.extend(batch.records)
        return collected

    def _discover(self) -> None:
        start: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StreamArn": self.arn}
            if start is not None:
                kwargs["ExclusiveStartShardId"] = start
            description = self.client.describe_stream(**kwargs)["StreamDescription"]
            for shard in description.get("Shards", []):
                shard_id = shard["ShardId"]
                if shard_id not in self._shards:
                    self._shards[shard_id] = _Shard(
                        parent=shard.get("ParentShardId"), iterator=self._iterator(shard_id, "TRIM_HORIZON")
                    )
            start = description.get("LastEvaluatedShardId")
            if start is None:
                return

    def _iterator(self, shard_id: str, kind: str, sequence_number: str | None = None) -> str:
        kwargs: dict[str, Any] = {"StreamArn": self.arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if sequence_number is not None:
            kwargs["SequenceNumber"] = sequence_number
        return self.client.get_shard_iterator(**kwargs)["ShardIterator"]

    def _read(self, shard_id: str, shard: _Shard, limit: int) -> list[dict[str, Any]]:
        if shard.iterator is None:
            shard.closed = True
            return []
        try:
            response = self.client.get_records(ShardIterator=shard.iterator, Limit=limit)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                raise
            # iterators live 15 minutes; carry on after the last record handed out
            if shard.last_sequence_number is None:
                shard.iterator = self._iterator(shard_id, "TRIM_HORIZON")
            else:
                shard.iterator = self._iterator(shard_id, "AFTER_SEQUENCE_NUMBER", shard.last_sequence_number)
            response = self.client.get_records(ShardIterator=shard.iterator, Limit=limit)
        shard.iterator = response.get("NextShardIterator")
        records = [lambda_record(record, self.arn, self.region) for record in response.get("Records", [])]
        if records:
            shard.last_sequence_number = records[-1]["dynamodb"]["SequenceNumber"]
        if shard.iterator is None:
            shard.closed = True
        return records


def first_failed_sequence_number(result: Any, records: Sequence[Mapping[str, Any]]) -> str | None:
    """Where Lambda resumes after a partial batch response: the lowest sequence number reported, None if none.

    An identifier that names no record of the batch fails the whole batch, as in Lambda.
    """
    failures = result.get("batchItemFailures") if isinstance(result, Mapping) else None
    if not failures:
        return None
    known = [str(record["dynamodb"]["SequenceNumber"]) for record in records]
    reported = [str(failure.get("itemIdentifier")) for failure in failures if isinstance(failure, Mapping)]
    if not reported or any(identifier not in known for identifier in reported):
        return known[0]
    return min(reported, key=known.index)
