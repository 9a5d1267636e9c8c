"""What the `changes` fixture (conftest.py) hands a test: ProductChangesFunction's handler fed from the products
table's real stream (moto or DynamoDB Local), publishing to an EventBridge bus (moto) whose events a rule copies to an
SQS queue the test reads.
"""

from __future__ import annotations

import copy
import json
from types import ModuleType
from typing import TYPE_CHECKING, Any

from products_api.history.store import HistoryEntry, HistoryStore
from products_api_local.streams.reader import StreamReader
from support import FakeContext, function_module

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_events.client import EventBridgeClient
    from mypy_boto3_sqs.client import SQSClient


def changes_handler_module() -> ModuleType:
    """The stream function's own module, imported from its folder as Lambda does."""
    return function_module("product_changes")


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
        from products_api.core.dynamodb import from_attribute_values

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
