"""The `changes` fixture: ProductChangesFunction's handler fed from the products table's real stream (moto or
DynamoDB Local), publishing to an EventBridge bus (moto) whose events a rule copies to an SQS queue the test reads.
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws
from products_api.changes import EVENT_SOURCE, EventPublisher, ProductChangeRecorder, make_events_client
from products_api.dynamodb import make_client
from products_api.history import HistoryEntry, HistoryStore
from products_api.settings import ChangesSettings, read_settings
from products_api_local.streams.reader import StreamReader, stream_arn
from support import ROOT, FakeContext

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_events.client import EventBridgeClient
    from mypy_boto3_sqs.client import SQSClient

REGION = "eu-west-1"


def changes_handler_module() -> ModuleType:
    """The stream function's own module, imported from its folder as Lambda does."""
    folder = str(ROOT / "functions" / "product_changes")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module("product_changes")


class Changes:
    """ProductChangesFunction on one backend: deliver stream records to it, read the history and the bus."""

    def __init__(
        self,
        client: DynamoDBClient,
        reader: StreamReader,
        history_table: str,
        events: EventBridgeClient,
        sqs: SQSClient,
        queue_url: str,
    ) -> None:
        self.client = client
        # the function's own EventBridge client: tests hook it to make PutEvents fail
        self.events_client = events
        self.reader = reader
        self.history = HistoryStore(client, history_table)
        self.history_table = history_table
        self._sqs = sqs
        self._queue_url = queue_url
        self.handler = changes_handler_module()

    def new_records(self) -> list[dict[str, Any]]:
        """Every stream record written since the last call, as Lambda would deliver them."""
        return self.reader.records()

    def invoke(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        # Lambda serialises the event: the handler must not see (or share) the test's objects
        event = {"Records": copy.deepcopy(records)}
        result: dict[str, Any] = self.handler.lambda_handler(event, FakeContext())
        return result

    def deliver(self) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Deliver every new record in one batch; returns the records and the function's answer (None: Lambda
        invokes nothing for an empty stream).
        """
        records = self.new_records()
        return records, (self.invoke(records) if records else None)

    def entries(self, product_id: str, company_id: str = "ACME") -> list[HistoryEntry]:
        """The product's history, oldest first."""
        return list(reversed(self.history.page(company_id, product_id, limit=100).entries))

    def history_items(self) -> list[dict[str, Any]]:
        from products_api.dynamodb import from_attribute_values

        page = self.client.scan(TableName=self.history_table, ConsistentRead=True)
        return [from_attribute_values(item) for item in page.get("Items", [])]

    def published(self) -> list[dict[str, Any]]:
        """The events published since the last call (EventBridge envelopes, `detail` parsed)."""
        events: list[dict[str, Any]] = []
        while True:
            messages = self._sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return events
            for message in messages:
                events.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def event_bus_backend(backend: str) -> Iterator[None]:
    """EventBridge and SQS are moto on both backends: moto lets DynamoDB Local's requests through untouched."""
    if backend == "moto":
        yield  # the whole test already runs inside mock_aws()
    else:
        with mock_aws():
            yield


@pytest.fixture
def changes(
    dynamodb_client: DynamoDBClient,
    table_env: dict[str, str],
    table_names: dict[str, str],
    dynamodb_endpoint_url: str | None,
    event_bus_backend: None,
    boto3_session: boto3.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> Changes:
    bus = f"t-{uuid.uuid4().hex[:8]}-products"
    events = boto3_session.client("events", region_name=REGION)
    sqs = boto3_session.client("sqs", region_name=REGION)
    events.create_event_bus(Name=bus)
    queue_url = sqs.create_queue(QueueName=f"{bus}-published")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="everything", EventBusName=bus, EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
    events.put_targets(Rule="everything", EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    monkeypatch.setenv("EVENT_BUS_NAME", bus)

    # clients made as the container makes them (timeouts, retry mode), on this test's backend
    settings = read_settings(ChangesSettings)
    function_events = make_events_client(settings, boto3_session)
    recorder = ProductChangeRecorder(
        HistoryStore(make_client(settings, boto3_session), settings.history_table_name),
        EventPublisher(function_events, settings.event_bus_name),
    )
    handler = changes_handler_module()
    monkeypatch.setattr(handler, "get_recorder", lambda: recorder)

    # botocore's account-based endpoints (<account>.streams-ddb...) are not among moto's URLs
    streams = boto3_session.client(
        "dynamodbstreams",
        region_name=REGION,
        endpoint_url=dynamodb_endpoint_url,
        config=Config(account_id_endpoint_mode="disabled"),
    )
    products_table = table_names["ProductsTable"]
    arn = stream_arn(dynamodb_client.describe_table(TableName=products_table)["Table"], products_table)
    reader = StreamReader(streams, arn, REGION)
    return Changes(dynamodb_client, reader, table_names["HistoryTable"], function_events, sqs, queue_url)
