"""Product storage: every DynamoDB call of the product table, and nothing else, lives here.

Items (tenant first): a product is pk=COMPANY#<company>, sk=PRODUCT#<id>; the lock that makes its model
unique is pk=COMPANY#<company>, sk=MODEL#<model key> (a digest of the key when it is long) with the owning productId.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from products_api.core.dynamodb import (
    failed_item,
    from_attribute_values,
    to_attribute_values,
    translated_errors,
    update_if,
)
from products_api.errors import (
    ConcurrentUpdate,
    DuplicateModel,
    InvalidStoredValue,
    ProductNotFound,
    StoreFailure,
    StoreUnavailable,
)
from products_api.products.fields import Status
from products_api.products.items import PRODUCT_PROJECTION, PRODUCT_PROJECTION_NAMES, ProductItem
from products_api.products.models import Product, company_partition, model_lock_sort_key, product_sort_key
from products_api.products.preconditions import ANY_VERSION, VersionCondition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

from products_api.products.transactions import (
    MAX_PRODUCTS_PER_TRANSACTION,
    PINNED_RENAME_TRIES,
    CreateAllOutcome,
    OtherFieldsMoved,
    create_all_failure,
    lock_move,
    new_product_puts,
    rename_failure,
    stale_rename,
    unexplained_cancellation,
)
from products_api.products.write_memory import (
    remembered_answer,
    rename_snapshot,
    update_expression,
    with_rename_snapshot,
    write_conditions,
    writes_to_forget,
)

# How many products a filtered page reads per round trip at least: a filter drops some, and each round trip costs.
FILTERED_READ_AHEAD = 100


@dataclass(frozen=True)
class ProductPage:
    products: tuple[Product, ...]
    # another product follows the last one of this page
    has_more: bool


class ProductStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _key(self, company_id: str, product_id: str) -> dict[str, Any]:
        # two strings, written as DynamoDB's attribute values directly (the general serializer ran its type checks)
        return {"pk": {"S": company_partition(company_id)}, "sk": {"S": product_sort_key(product_id)}}

    def get(self, company_id: str, product_id: str) -> Product | None:
        """A strongly consistent read of the product's own attributes (not its write marks): `{}` answers with it."""
        with translated_errors():
            response = self._client.get_item(
                TableName=self._table,
                Key=self._key(company_id, product_id),
                ConsistentRead=True,
                ProjectionExpression=PRODUCT_PROJECTION,
                ExpressionAttributeNames=PRODUCT_PROJECTION_NAMES,
            )
        item = response.get("Item")
        return ProductItem.model_validate(from_attribute_values(item)).to_product() if item else None

    def exists(self, company_id: str, product_id: str) -> bool:
        """Whether the company has this product. Eventually consistent (half the read cost of `get`): products are
        never deleted, so only a product imported within the last second could be missed.
        """
        with translated_errors():
            response = self._client.get_item(
                TableName=self._table,
                Key=self._key(company_id, product_id),
                # the key alone answers the question; nothing of the product is parsed
                ProjectionExpression="#pk",
                ExpressionAttributeNames={"#pk": "pk"},
            )
        return "Item" in response

    def get_with_write_id(self, company_id: str, product_id: str) -> tuple[Product, dict[str, Any]] | None:
        """`get`, and the item as stored: which writes it remembers (a re-run of one of them answers it)."""
        with translated_errors():
            response = self._client.get_item(
                TableName=self._table, Key=self._key(company_id, product_id), ConsistentRead=True
            )
        item = response.get("Item")
        if not item:
            return None
        stored = from_attribute_values(item)
        return ProductItem.model_validate(stored).to_product(), stored

    def already_written(self, item: dict[str, Any], write_id: str) -> Product | None:
        """The answer to a write this stored item shows applied already (None if it does not): see
        write_memory.remembered_answer.
        """
        return remembered_answer(item, write_id)

    def _forget_old_writes(self, item: dict[str, Any]) -> None:
        """Forget the oldest remembered writes once there are PRUNE_AT. Not a product write: no version, no
        history entry (the stream function skips a change without a new version).
        """
        forgotten = writes_to_forget(item)
        if not forgotten:
            return
        names = {f"#w{position}": name for position, name in enumerate(forgotten)}
        names["#pk"] = "pk"
        # housekeeping after the write succeeded: whatever happens here, the write's answer stands (the next
        # remembered write tries again)
        with (
            contextlib.suppress(ClientError, ConcurrentUpdate, StoreUnavailable, StoreFailure, InvalidStoredValue),
            translated_errors(expected=frozenset({"ConditionalCheckFailedException"})),
        ):
            self._client.update_item(
                TableName=self._table,
                Key=self._key(str(item["companyId"]), str(item["id"])),
                UpdateExpression="REMOVE " + ", ".join(f"#w{p}" for p in range(len(forgotten))),
                # never creating a product that is not there
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames=names,
            )

    def page(self, company_id: str, limit: int, after_id: str | None, status: Status | None) -> ProductPage:
        """Up to `limit` of the company's products in id order, after `after_id`, only `status` ones when given.

        One Query on the company's partition (sort keys PRODUCT#...; the model locks beside them are not read), its
        `status` filter applied by DynamoDB after the read. A filtered or 1 MB-cut answer may hold fewer than
        `limit` products: the Query goes on from LastEvaluatedKey until the page is full or the partition ends, and
        looks one product ahead, so `has_more` is true only when another product really follows.
        """
        names = {"#pk": "pk", "#sk": "sk"}
        values: dict[str, Any] = {":pk": company_partition(company_id), ":productPrefix": product_sort_key("")}
        request: dict[str, Any] = {
            "TableName": self._table,
            # the company's partition, products only (its model locks share it under MODEL#)
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :productPrefix)",
        }
        if status is not None:
            names["#status"] = "status"
            values[":status"] = status
            # applied after the read: archived and active products share the partition
            request["FilterExpression"] = "#status = :status"
        request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = to_attribute_values(values)
        # unfiltered, every product read is one of the page (plus one to know whether more follow); filtered, read
        # more per round trip, since some are dropped
        request["Limit"] = limit + 1 if status is None else max(limit + 1, FILTERED_READ_AHEAD)
        if after_id is not None:
            request["ExclusiveStartKey"] = self._key(company_id, after_id)
        products: list[Product] = []
        while True:
            with translated_errors():
                response = self._client.query(**request)
            products.extend(
                ProductItem.model_validate(from_attribute_values(item)).to_product() for item in response["Items"]
            )
            last_key = response.get("LastEvaluatedKey")
            if len(products) > limit or not last_key:
                break
            request["ExclusiveStartKey"] = last_key
        return ProductPage(products=tuple(products[:limit]), has_more=len(products) > limit)

    def model_owner(self, company_id: str, key: str) -> str | None:
        """The id of the company's product holding the model key `key` (its lock item's productId), if any."""
        with translated_errors():
            response = self._client.get_item(
                TableName=self._table,
                Key=to_attribute_values({"pk": company_partition(company_id), "sk": model_lock_sort_key(key)}),
                # the same consistency as the product read after it: a rename moves both in one transaction
                ConsistentRead=True,
                ProjectionExpression="#productId",
                ExpressionAttributeNames={"#productId": "productId"},
            )
        item = response.get("Item")
        return str(from_attribute_values(item)["productId"]) if item else None

    def update_fields(
        self,
        company_id: str,
        product_id: str,
        changes: dict[str, Any],
        version_condition: VersionCondition,
        updated_at: datetime,
        write_id: str,
        *,
        updated_by: str | None = None,
        expected_model_key: str | None = None,
        remember: bool = False,
    ) -> Product:
        """One conditional UpdateItem. Fields not in `changes` are untouched, so concurrent patches of
        different fields both apply. The failed condition's ALL_OLD image tells 404 from 412 without a read.

        `remember`: note the write id and the version it makes on the product (writes with an Idempotency-Key),
        so that a re-run whose idempotency record was lost recognises it, later writes notwithstanding.
        """
        expression, names, values = update_expression(changes, updated_at, write_id, updated_by, remember=remember)
        names["#pk"] = "pk"
        conditions = write_conditions(values, version_condition, remember=remember)
        if expected_model_key is not None:
            # a case-only rename keeps its lock only while no other rename got in first
            names["#modelKey"] = "modelKey"
            values[":expectedModelKey"] = expected_model_key
            conditions.append("#modelKey = :expectedModelKey")
        try:
            written = update_if(
                self._client, self._table, self._key(company_id, product_id), expression, names, values, conditions
            )
        except ClientError as exc:
            # only a failed condition gets here (translated_errors turned every other code into its meaning)
            stored = failed_item(exc)
            if stored is None:
                raise ProductNotFound(product_id) from exc
            done = self.already_written(stored, write_id)
            if done is not None:
                # an earlier run of this very write got through: its result is the answer
                return done
            current = ProductItem.model_validate(stored).to_product()
            if not version_condition.matches(current.version):
                raise version_condition.failure(current.version, current.etag) from exc
            raise ConcurrentUpdate(product_id) from exc
        if remember:
            self._forget_old_writes(written)
        return ProductItem.model_validate(written).to_product()

    def rename(
        self,
        current: Product,
        changes: dict[str, Any],
        updated_at: datetime,
        write_id: str,
        *,
        updated_by: str | None = None,
        version_condition: VersionCondition = ANY_VERSION,
        remember: bool = False,
        read_item: dict[str, Any] | None = None,
    ) -> Product:
        """Move the model lock and update the product in one transaction.

        It requires that nothing was written since the product was read: the product at the version this write makes
        is then the read with these changes, known without another call. A write of other fields that got in between
        cancels it with the product as it now is (ALL_OLD), and it runs once more requiring that version. Should yet
        another write get in, it runs on what a rename really depends on, the model whose lock it frees (and the
        If-Match version, when sent), so a stream of other writes never aborts it; that answer is read back from the
        `rename*` copy the update leaves. `read_item`, the item as read, is what a remembering write prunes from.
        """
        read, item = current, read_item
        for _ in range(PINNED_RENAME_TRIES):
            outcome = self._rename_transaction(
                read, changes, updated_at, write_id, updated_by, version_condition, remember, read.version
            )
            if isinstance(outcome, Product):
                return outcome
            if not isinstance(outcome, OtherFieldsMoved):
                if remember and item is not None:
                    self._forget_old_writes(item)
                return read.with_changes(changes, updated_at)
            read, item = outcome.product, outcome.item
        committed = self._rename_transaction(
            read, changes, updated_at, write_id, updated_by, version_condition, remember, None
        )
        if isinstance(committed, Product):
            return committed
        return self._renamed(read, changes, updated_at, write_id)

    def _rename_transaction(
        self,
        current: Product,
        changes: dict[str, Any],
        updated_at: datetime,
        write_id: str,
        updated_by: str | None,
        version_condition: VersionCondition,
        remember: bool,
        read_version: int | None,
    ) -> Product | OtherFieldsMoved | bool:
        """One rename transaction: True once committed; with `read_version`, OtherFieldsMoved when only that
        version moved; the product when an earlier run of this very write had applied it already (its answer).
        """
        expression, names, values = update_expression(changes, updated_at, write_id, updated_by, remember=remember)
        names["#pk"] = "pk"
        names["#modelKey"] = "modelKey"
        values[":readModelKey"] = current.model_key
        expression = with_rename_snapshot(expression, names, values, changes)
        conditions = write_conditions(values, version_condition, remember=remember)
        # it still holds the model whose lock we free: the only thing of it this rename depends on
        conditions.append("#modelKey = :readModelKey")
        if read_version is not None:
            # and nothing else was written since the read: the answer is then known without a read-back
            values[":readVersion"] = read_version
            conditions.append("#version = :readVersion")
        transaction: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._key(current.company_id, current.id),
                    "UpdateExpression": expression,
                    "ConditionExpression": " AND ".join(conditions),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": to_attribute_values(values),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            *lock_move(self._table, current, changes["model"]),
        ]
        try:
            with translated_errors(expected=frozenset({"TransactionCanceledException"})):
                self._client.transact_write_items(TransactItems=transaction)
        except ClientError as exc:
            failure = rename_failure(exc, current)
            if isinstance(failure, dict):
                done = self.already_written(failure, write_id)
                if done is not None:
                    # an earlier run of this very write got through: its result is the answer
                    return done
                found = ProductItem.model_validate(failure).to_product()
                if (
                    read_version is not None
                    and found.model_key == current.model_key
                    and version_condition.matches(found.version)
                ):
                    return OtherFieldsMoved(found, failure)
                failure = stale_rename(found, version_condition)
            raise failure from exc
        return True

    def _renamed(self, current: Product, changes: dict[str, Any], updated_at: datetime, write_id: str) -> Product:
        """The product at the version a committed rename made: the item while no write followed, else its copy."""
        with translated_errors():
            response = self._client.get_item(
                TableName=self._table, Key=self._key(current.company_id, current.id), ConsistentRead=True
            )
        item = from_attribute_values(response.get("Item") or {})
        if item:
            self._forget_old_writes(item)
        if item.get("writeId") == write_id:
            return ProductItem.model_validate(item).to_product()
        if item.get("renameWriteId") == write_id:
            return rename_snapshot(item)
        # Another rename of this product committed between ours and this read: ours is applied, and this is the
        # closest truthful answer left (the change history holds our exact version).
        return current.with_changes(changes, updated_at)

    def create(self, product: Product) -> None:
        """Insert a new product and its model lock together (the import path)."""
        transaction = new_product_puts(self._table, product)
        try:
            with translated_errors(expected=frozenset({"TransactionCanceledException"})):
                self._client.transact_write_items(TransactItems=transaction)
        except ClientError as exc:
            reasons = [reason.get("Code") for reason in exc.response.get("CancellationReasons", [])]
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise DuplicateModel(product.model) from exc
            raise unexplained_cancellation(exc, reasons, product.id) from exc

    def create_all(self, products: Sequence[Product]) -> CreateAllOutcome:
        """Insert products and their model locks in one transaction (up to 50 products: 100 items), all or nothing.

        Nothing is written unless the outcome is clean: it then names the products that already exist (by id: an import
        re-run) and the models another product holds, so the caller can drop the first and give up on the second.
        """
        if not 0 < len(products) <= MAX_PRODUCTS_PER_TRANSACTION:
            raise ValueError(f"1 to {MAX_PRODUCTS_PER_TRANSACTION} products per transaction, not {len(products)}")
        transaction: list[TransactWriteItemTypeDef] = []
        for product in products:
            transaction += new_product_puts(self._table, product, report_holder=True)
        try:
            with translated_errors(expected=frozenset({"TransactionCanceledException"})):
                self._client.transact_write_items(TransactItems=transaction)
        except ClientError as exc:
            return create_all_failure(exc, products)
        return CreateAllOutcome(written=[product.id for product in products])
