"""Reading a table's stream as Lambda's DynamoDB event source does, on DynamoDB Local or moto.

`StreamReader` follows every shard (children after parents) and hands out the new records shaped as Lambda delivers
them (`eventSourceARN`, `dynamodb.ApproximateCreationDateTime` as epoch seconds, binary values base64-encoded as in
the JSON event), DynamoDB Local's quirks undone. A shard starts at its checkpoint when it has one.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from products_api_local.functions.context import ACCOUNT_ID
from products_api_local.streams.quirks import normalise_record
from products_api_local.streams.sources import DEFAULT_BATCH_SIZE, StreamSourceError

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams.client import DynamoDBStreamsClient


def lambda_record(record: Mapping[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda's event source hands it to the function (a JSON-ready dict), DynamoDB Local's
    quirks undone (`products_api_local.streams.quirks`)."""
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        # boto3 parses the timestamp; the event carries epoch seconds
        stream["ApproximateCreationDateTime"] = float(int(created.timestamp()))
    for image in ("Keys", "NewImage", "OldImage"):
        if image in stream:
            stream[image] = {name: _json_ready(value) for name, value in stream[image].items()}
    shaped = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": stream,
        "eventSourceARN": stream_arn,
    }
    return normalise_record(shaped, region, ACCOUNT_ID)


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
    """Every shard of one stream, children after parents, each followed from its checkpoint (the last record
    processed, from an earlier run) if it has one, else from its oldest record (TRIM_HORIZON)."""

    client: DynamoDBStreamsClient
    arn: str
    region: str
    checkpoints: Mapping[str, str] = field(default_factory=dict)
    _shards: dict[str, _Shard] = field(default_factory=dict)

    def rewind(self, shard_id: str, after: str | None) -> None:
        """Read the shard again from after `after` (a sequence number; None: from its oldest record), as Lambda
        does after a failure it cannot attribute to the function: records not checkpointed are read again."""
        shard = self._shards.get(shard_id)
        if shard is not None:
            shard.iterator = self._start(shard_id, after)
            shard.last_sequence_number = after
            shard.closed = False

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
                    checkpoint = self.checkpoints.get(shard_id)
                    self._shards[shard_id] = _Shard(
                        parent=shard.get("ParentShardId"),
                        iterator=self._start(shard_id, checkpoint),
                        last_sequence_number=checkpoint,
                    )
            start = description.get("LastEvaluatedShardId")
            if start is None:
                return

    def _start(self, shard_id: str, after: str | None) -> str:
        if after is None:
            return self._iterator(shard_id, "TRIM_HORIZON")
        try:
            return self._iterator(shard_id, "AFTER_SEQUENCE_NUMBER", after)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {"TrimmedDataAccessException", "ValidationException"}:
                raise
            # the checkpoint is older than the stream keeps (24 hours): what is left is all there is to read
            return self._iterator(shard_id, "TRIM_HORIZON")

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
