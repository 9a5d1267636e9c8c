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
from products_api.products.items import PRODUCT_PROJECTION, PRODUCT_PROJECTION_NAMES
from products_api.products.service import IDEMPOTENCY_KEY_PREFIX
from products_api.products.write_memory import PRUNE_AT, REMEMBERED_WRITES
from products_api.products.write_memory import SNAPSHOT_FIELDS as RENAME_SNAPSHOT_FIELDS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

COMPANY = "BENCH"
IMAGE_URLS = ["https://cdn.example.com/new-hero.jpg"]
# who made the write, as the handler records it: a credential id of the same length
UPDATED_BY = "cred_0123456789abcdef"


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

    def _update_product(self, name: str, write_id: str, *, remember: bool = False) -> dict[str, Any]:
        # a keyed write also leaves `write#<id>` = the version it makes (write_memory.py), and refuses a second run
        this_write = ", #thisWrite = #version + :one" if remember else ""
        names = {
            "#version": "version",
            "#updatedAt": "updatedAt",
            "#writeId": "writeId",
            "#updatedBy": "updatedBy",
            "#f0": "imageUrls",
            "#f1": "name",
            "#pk": "pk",
        }
        if remember:
            names["#thisWrite"] = f"write#{write_id}"
        response = self._client.update_item(
            TableName=self._products,
            Key=self._key,
            UpdateExpression=(
                f"SET #version = #version + :one, #updatedAt = :updatedAt, #writeId = :writeId{this_write}, "
                "#updatedBy = :updatedBy, #f0 = :f0, #f1 = :f1"
            ),
            ConditionExpression=(
                "attribute_exists(#pk) AND (attribute_not_exists(#writeId) OR #writeId <> :writeId)"
                + (" AND attribute_not_exists(#thisWrite)" if remember else "")
            ),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={
                ":one": _n(1),
                ":updatedAt": _s(_now_text()),
                ":writeId": _s(write_id),
                ":updatedBy": _s(UPDATED_BY),
                ":f0": {"L": [_s(url) for url in IMAGE_URLS]},
                ":f1": _s(name),
            },
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        written = dict(response["Attributes"])
        if remember:
            self._forget_old_writes(written)
        return written

    def _forget_old_writes(self, item: dict[str, Any]) -> None:
        """As the handler does once an item remembers PRUNE_AT keyed writes: one UpdateItem removing the oldest."""
        remembered = sorted((name for name in item if name.startswith("write#")), key=lambda name: int(item[name]["N"]))
        if len(remembered) < PRUNE_AT:
            return
        forgotten = remembered[: len(remembered) - REMEMBERED_WRITES]
        names = {f"#w{position}": name for position, name in enumerate(forgotten)}
        self._client.update_item(
            TableName=self._products,
            Key=self._key,
            UpdateExpression="REMOVE " + ", ".join(names),
            ConditionExpression="attribute_exists(#pk)",
            ExpressionAttributeNames={**names, "#pk": "pk"},
        )

    def plain(self, name: str) -> None:
        self._update_product(name, uuid.uuid4().hex)

    def rename(self, model: str) -> None:
        """Read, then the transaction (the product with the copy of the version it makes, the new lock, the old lock's
        release), uncontended: on condition of the model and the version read, so no read-back is needed.
        """
        item = self._client.get_item(TableName=self._products, Key=self._key, ConsistentRead=True)["Item"]
        version = int(item["version"]["N"])
        old_key = str(item["modelKey"]["S"])
        new_key = model.casefold()
        partition = self._key["pk"]
        # what the rename leaves alone is copied as it is (if_not_exists of the field), what it sets is copied as set
        snapshot_names: dict[str, str] = {}
        snapshot = ["#renameWriteId = :writeId", "#renameVersion = #version + :one", "#sUpdatedAt = :updatedAt"]
        for position, attribute in enumerate(RENAME_SNAPSHOT_FIELDS):
            snapshot_names[f"#s{position}"] = f"renameState.{attribute}"
            if attribute == "model":
                snapshot.append(f"#s{position} = :s{position}")
            else:
                snapshot_names[f"#o{position}"] = attribute
                snapshot.append(f"#s{position} = if_not_exists(#o{position}, :nothing)")
        model_position = RENAME_SNAPSHOT_FIELDS.index("model")
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": self._products,
                        "Key": self._key,
                        "UpdateExpression": (
                            "SET "
                            + ", ".join(snapshot)
                            + ", #version = #version + :one, #updatedAt = :updatedAt, #writeId = :writeId, "
                            "#updatedBy = :updatedBy, #f0 = :f0, #modelKey = :modelKey"
                        ),
                        "ConditionExpression": (
                            "attribute_exists(#pk) AND (attribute_not_exists(#writeId) OR #writeId <> :writeId) AND "
                            "#modelKey = :readModelKey AND #version = :readVersion"
                        ),
                        "ExpressionAttributeNames": {
                            "#version": "version",
                            "#updatedAt": "updatedAt",
                            "#writeId": "writeId",
                            "#updatedBy": "updatedBy",
                            "#f0": "model",
                            "#modelKey": "modelKey",
                            "#pk": "pk",
                            "#renameWriteId": "renameWriteId",
                            "#renameVersion": "renameVersion",
                            "#sUpdatedAt": "renameState.updatedAt",
                            **snapshot_names,
                        },
                        "ExpressionAttributeValues": {
                            ":one": _n(1),
                            ":updatedAt": _s(_now_text()),
                            ":writeId": _s(uuid.uuid4().hex),
                            ":updatedBy": _s(UPDATED_BY),
                            ":f0": _s(model),
                            ":modelKey": _s(new_key),
                            ":readModelKey": _s(old_key),
                            ":readVersion": _n(version),
                            ":nothing": {"NULL": True},
                            f":s{model_position}": _s(model),
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
                        "ConditionExpression": "attribute_not_exists(#pk) OR #productId = :productId",
                        "ExpressionAttributeNames": {"#pk": "pk", "#productId": "productId"},
                        "ExpressionAttributeValues": {":productId": _s(self._product_id)},
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
            ],
            ClientRequestToken=str(uuid.uuid4()),
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
        self._update_product(name, digest[:32], remember=True)
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
        # the product's own attributes, not its write marks (ProductStore.get's projection)
        self._client.get_item(
            TableName=self._products,
            Key=self._key,
            ConsistentRead=True,
            ProjectionExpression=PRODUCT_PROJECTION,
            ExpressionAttributeNames=PRODUCT_PROJECTION_NAMES,
        )
