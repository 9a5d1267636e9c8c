"""The bare boto3 calls each request kind needs, written out by hand: the floor `warm` measures the handler against.

The same expressions, conditions and return options as the handler, with attribute values written out by hand.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from products_api.core.settings import Settings
from products_api.products.service import IDEMPOTENCY_KEY_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

COMPANY = "BENCH"
IMAGE_URLS = ["https://cdn.example.com/new-hero.jpg"]


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _n(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class BareCalls:
    """The DynamoDB calls each request kind needs, and nothing else: what a hand-written function would send."""

    def __init__(self, client: DynamoDBClient, settings: Settings, product_id: str) -> None:
        self._client = client
        self._products = settings.products_table_name
        self._idempotency = settings.idempotency_table_name
        self._key: dict[str, AttributeValueTypeDef] = {
            "pk": _s(f"COMPANY#{COMPANY}"),
            "sk": _s(f"PRODUCT#{product_id}"),
        }
        self._product_id = product_id
        self.replay_record_id = ""
        self.response_data = ""

    def _update_product(self, name: str, write_id: str) -> dict[str, Any]:
        response = self._client.update_item(
            TableName=self._products,
            Key=self._key,
            UpdateExpression=(
                "SET #version = #version + :one, #updatedAt = :updatedAt, #writeId = :writeId, #f0 = :f0, #f1 = :f1"
            ),
            ConditionExpression="attribute_exists(#pk) AND (attribute_not_exists(#writeId) OR #writeId <> :writeId)",
            ExpressionAttributeNames={
                "#version": "version",
                "#updatedAt": "updatedAt",
                "#writeId": "writeId",
                "#f0": "imageUrls",
                "#f1": "name",
                "#pk": "pk",
            },
            ExpressionAttributeValues={
                ":one": _n(1),
                ":updatedAt": _s(_now_text()),
                ":writeId": _s(write_id),
                ":f0": {"L": [_s(url) for url in IMAGE_URLS]},
                ":f1": _s(name),
            },
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        return dict(response["Attributes"])

    def plain(self, name: str) -> None:
        self._update_product(name, uuid.uuid4().hex)

    def rename(self, model: str) -> None:
        item = self._client.get_item(TableName=self._products, Key=self._key, ConsistentRead=True)["Item"]
        version = int(item["version"]["N"])
        old_key = str(item["modelKey"]["S"])
        new_key = model.casefold()
        partition = self._key["pk"]
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": self._products,
                        "Key": self._key,
                        "UpdateExpression": (
                            "SET #version = #version + :one, #updatedAt = :updatedAt, #writeId = :writeId, "
                            "#f0 = :f0, #modelKey = :modelKey"
                        ),
                        "ConditionExpression": "attribute_exists(#pk) AND #version = :readVersion",
                        "ExpressionAttributeNames": {
                            "#version": "version",
                            "#updatedAt": "updatedAt",
                            "#writeId": "writeId",
                            "#f0": "model",
                            "#modelKey": "modelKey",
                            "#pk": "pk",
                        },
                        "ExpressionAttributeValues": {
                            ":one": _n(1),
                            ":updatedAt": _s(_now_text()),
                            ":writeId": _s(uuid.uuid4().hex),
                            ":f0": _s(model),
                            ":modelKey": _s(new_key),
                            ":readVersion": _n(version),
                        },
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Put": {
                        "TableName": self._products,
                        "Item": {
                            "pk": partition,
                            "sk": _s(f"MODEL#{new_key}"),
                            "entity": _s("modelLock"),
                            "productId": _s(self._product_id),
                        },
                        "ConditionExpression": "attribute_not_exists(#pk)",
                        "ExpressionAttributeNames": {"#pk": "pk"},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Delete": {
                        "TableName": self._products,
                        "Key": {"pk": partition, "sk": _s(f"MODEL#{old_key}")},
                        "ConditionExpression": "attribute_not_exists(#pk) OR #productId = :productId",
                        "ExpressionAttributeNames": {"#pk": "pk", "#productId": "productId"},
                        "ExpressionAttributeValues": {":productId": _s(self._product_id)},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )

    def _put_in_progress(self, record_id: str, fingerprint: str) -> None:
        """Powertools' own PutItem: the record is new, or expired, or an in-progress one that timed out."""
        now = time.time()
        self._client.put_item(
            TableName=self._idempotency,
            Item={
                "id": _s(record_id),
                "expiration": _n(int(now) + 86_400),
                "status": _s("INPROGRESS"),
                "in_progress_expiration": _n(int(now * 1000) + 10_000),
                "validation": _s(fingerprint),
            },
            ConditionExpression=(
                "attribute_not_exists(#id) OR #expiry < :now OR "
                "(#status = :inprogress AND attribute_exists(#in_progress_expiry) AND "
                "#in_progress_expiry < :now_in_millis)"
            ),
            ExpressionAttributeNames={
                "#id": "id",
                "#expiry": "expiration",
                "#in_progress_expiry": "in_progress_expiration",
                "#status": "status",
            },
            ExpressionAttributeValues={
                ":now": _n(int(now)),
                ":now_in_millis": _n(int(now * 1000)),
                ":inprogress": _s("INPROGRESS"),
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def first_with_key(self, name: str, key: str) -> str:
        digest = hashlib.sha256(key.encode()).hexdigest()
        record_id = f"{IDEMPOTENCY_KEY_PREFIX}#{digest}"
        fingerprint = hashlib.sha256(name.encode()).hexdigest()
        self._put_in_progress(record_id, fingerprint)
        self._update_product(name, digest[:32])
        self._client.update_item(
            TableName=self._idempotency,
            Key={"id": _s(record_id)},
            UpdateExpression=(
                "SET #response_data = :response_data, #expiry = :expiry, #status = :status, "
                "#validation_key = :validation_key"
            ),
            ExpressionAttributeNames={
                "#expiry": "expiration",
                "#response_data": "data",
                "#status": "status",
                "#validation_key": "validation",
            },
            ExpressionAttributeValues={
                ":expiry": _n(int(time.time()) + 86_400),
                ":response_data": _s(self.response_data),
                ":status": _s("COMPLETED"),
                ":validation_key": _s(fingerprint),
            },
        )
        return record_id

    def replay(self) -> None:
        """The failed conditional PutItem whose ALL_OLD image is the stored answer: the whole of a replay."""
        try:
            self._put_in_progress(self.replay_record_id, "x" * 64)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            if "Item" not in exc.response:
                raise AssertionError("a replay must return the stored record (ALL_OLD)") from exc
            return
        raise AssertionError("the replayed record was missing: the bare replay wrote a new one")

    def current(self) -> None:
        self._client.get_item(TableName=self._products, Key=self._key, ConsistentRead=True)
