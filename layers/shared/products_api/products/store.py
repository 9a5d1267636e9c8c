"""Product storage: every DynamoDB call of the product table, and nothing else, lives here.

Items (tenant first): a product is pk=COMPANY#<company>, sk=PRODUCT#<id>; the lock that makes its model
unique is pk=COMPANY#<company>, sk=MODEL#<model key> (a digest of the key when it is long) with the owning productId.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from products_api.core.dynamodb import (
    CONFLICT_REASONS,
    UNAVAILABLE_REASONS,
    from_attribute_values,
    to_attribute_values,
    translated_errors,
)
from products_api.errors import (
    ConcurrentUpdate,
    DuplicateModel,
    InvalidStoredValue,
    PreconditionFailed,
    ProductNotFound,
    StoreFailure,
    StoreUnavailable,
)
from products_api.products.items import ProductItem
from products_api.products.models import (
    Product,
    company_partition,
    format_timestamp,
    model_key,
    model_lock_sort_key,
    product_sort_key,
)
from products_api.products.preconditions import ANY_VERSION, VersionCondition, stale_version_message

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

# A rename copies the version it makes into these attributes of the product item (see ProductStore.rename).
RENAME_PREFIX = "renameState."
RENAME_WRITE_ID = "#renameWriteId"
RENAME_VERSION = "#renameVersion"
# A write sent with an Idempotency-Key leaves `write#<write id>` = the version it made on the product, so a re-run
# whose idempotency record was lost recognises it even after later writes (a top-level attribute: SET needs no map
# to exist, and DynamoDB Local writes no `{}` into the stream). A product remembers this many, pruned back to it
# once it holds PRUNE_AT.
WRITE_PREFIX = "write#"
REMEMBERED_WRITES = 64
PRUNE_AT = 80
# What a rename copies: every field of the API.
_SNAPSHOT_FIELDS = ("name", "model", "description", "defaultFieldValues", "imageUrls", "status", "sourceLocale")


class ProductStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _key(self, company_id: str, product_id: str) -> dict[str, Any]:
        return to_attribute_values({"pk": company_partition(company_id), "sk": product_sort_key(product_id)})

    def get(self, company_id: str, product_id: str) -> Product | None:
        """A strongly consistent read: a rename decides on it, and `{}` answers with it."""
        with translated_errors():
            response = self._client.get_item(
                TableName=self._table, Key=self._key(company_id, product_id), ConsistentRead=True
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
        """The answer to a write this stored item shows applied already (None if it does not): the product at the
        version that write made when it is the current one or the latest rename's, else the product as it is now
        (a product keeps no older versions; the change history does).
        """
        stored = ProductItem.model_validate(item)
        if stored.write_id == write_id:
            return stored.to_product()
        version = item.get(f"{WRITE_PREFIX}{write_id}")
        if version is None:
            return None
        if stored.rename_write_id == write_id and stored.rename_version == version:
            return _rename_snapshot(item)
        return stored.to_product()

    def _forget_old_writes(self, item: dict[str, Any]) -> None:
        """Forget the oldest remembered writes once there are PRUNE_AT. Not a product write: no version, no
        history entry (the stream function skips a change without a new version).
        """
        remembered = sorted((name for name in item if name.startswith(WRITE_PREFIX)), key=lambda name: item[name])
        if len(remembered) < PRUNE_AT:
            return
        forgotten = remembered[: len(remembered) - REMEMBERED_WRITES]
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
        expression, names, values = _update_expression(changes, updated_at, write_id, updated_by, remember=remember)
        names["#pk"] = "pk"
        conditions = [
            # the product exists (in this company: the key holds it): UpdateItem would otherwise create it
            "attribute_exists(#pk)",
            # this write is not applied yet: a retry after a lost response must not count it twice
            "(attribute_not_exists(#writeId) OR #writeId <> :writeId)",
        ]
        if remember:
            # nor by an earlier run whose answer and idempotency record were lost, whatever came after it
            conditions.append("attribute_not_exists(#thisWrite)")
        version_clause = version_condition.expression("#version", values)
        if version_clause:
            # the client's If-Match still names the current version
            conditions.append(version_clause)
        if expected_model_key is not None:
            # a case-only rename keeps its lock only while no other rename got in first
            names["#modelKey"] = "modelKey"
            values[":expectedModelKey"] = expected_model_key
            conditions.append("#modelKey = :expectedModelKey")

        try:
            with translated_errors(expected=frozenset({"ConditionalCheckFailedException"})):
                response = self._client.update_item(
                    TableName=self._table,
                    Key=self._key(company_id, product_id),
                    UpdateExpression=expression,
                    ConditionExpression=" AND ".join(conditions),
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=to_attribute_values(values),
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as exc:
            # only a failed condition gets here (translated_errors turned every other code into its meaning)
            old: dict[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
            if not old:
                raise ProductNotFound(product_id) from exc
            stored = from_attribute_values(old)
            done = self.already_written(stored, write_id)
            if done is not None:
                # an earlier run of this very write got through: its result is the answer
                return done
            current = ProductItem.model_validate(stored).to_product()
            if not version_condition.matches(current.version):
                raise PreconditionFailed(stale_version_message(current.version), current.etag) from exc
            raise ConcurrentUpdate(product_id) from exc
        written = from_attribute_values(response["Attributes"])
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
    ) -> Product:
        """Move the model lock and update the product in one transaction.

        The transaction depends only on what a rename changes: the product still holds the model whose lock it
        frees (and the If-Match version, when sent). Other fields may change between our read and our write
        without aborting it; so that the answer is still the product exactly at the version this write made, the
        update also copies that version into `rename*` attributes, read back after the commit.
        """
        partition = company_partition(current.company_id)
        expression, names, values = _update_expression(changes, updated_at, write_id, updated_by, remember=remember)
        names["#pk"] = "pk"
        names["#modelKey"] = "modelKey"
        values[":readModelKey"] = current.model_key
        # the version this write makes, as it is at that version: what it sets, and the fields it leaves alone
        snapshot = [f"{RENAME_WRITE_ID} = :writeId", f"{RENAME_VERSION} = #version + :one"]
        names[RENAME_WRITE_ID] = "renameWriteId"
        names[RENAME_VERSION] = "renameVersion"
        names["#sUpdatedAt"] = f"{RENAME_PREFIX}updatedAt"
        snapshot.append("#sUpdatedAt = :updatedAt")
        values[":nothing"] = None
        for position, attribute in enumerate(_SNAPSHOT_FIELDS):
            names[f"#s{position}"] = f"{RENAME_PREFIX}{attribute}"
            if attribute in changes:
                values[f":s{position}"] = changes[attribute]
                snapshot.append(f"#s{position} = :s{position}")
            else:
                names[f"#o{position}"] = attribute
                snapshot.append(f"#s{position} = if_not_exists(#o{position}, :nothing)")
        expression = expression.replace("SET ", "SET " + ", ".join(snapshot) + ", ", 1)
        conditions = [
            # the product exists (in this company: the key holds it)
            "attribute_exists(#pk)",
            # it still holds the model whose lock we free: the only thing of it this rename depends on
            "#modelKey = :readModelKey",
            # this write is not applied yet: a re-run after a lost answer or record must not apply it twice
            "(attribute_not_exists(#writeId) OR #writeId <> :writeId)",
        ]
        if remember:
            # nor by an earlier run whose answer and idempotency record were lost, whatever came after it
            conditions.append("attribute_not_exists(#thisWrite)")
        version_clause = version_condition.expression("#version", values)
        if version_clause:
            # the client's If-Match still names the current version
            conditions.append(version_clause)
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
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_attribute_values(
                        {
                            "pk": partition,
                            "sk": model_lock_sort_key(model_key(changes["model"])),
                            "entity": "modelLock",
                            "productId": current.id,
                        }
                    ),
                    # nobody else in this company holds the new model (a lock of our own is stale: we take it)
                    "ConditionExpression": "attribute_not_exists(#pk) OR #productId = :productId",
                    "ExpressionAttributeNames": {"#pk": "pk", "#productId": "productId"},
                    "ExpressionAttributeValues": to_attribute_values({":productId": current.id}),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": to_attribute_values({"pk": partition, "sk": model_lock_sort_key(current.model_key)}),
                    # the old lock is ours to free (absent only for data written without locks)
                    "ConditionExpression": "attribute_not_exists(#pk) OR #productId = :productId",
                    "ExpressionAttributeNames": {"#pk": "pk", "#productId": "productId"},
                    "ExpressionAttributeValues": to_attribute_values({":productId": current.id}),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]
        try:
            with translated_errors(expected=frozenset({"TransactionCanceledException"})):
                self._client.transact_write_items(TransactItems=transaction)
        except ClientError as exc:
            failure = _rename_failure(exc, current)
            if isinstance(failure, dict):
                done = self.already_written(failure, write_id)
                if done is not None:
                    # an earlier run of this very write got through: its result is the answer
                    return done
                failure = _stale_rename(ProductItem.model_validate(failure).to_product(), version_condition)
            raise failure from exc
        return self._renamed(current, changes, updated_at, write_id)

    def _renamed(self, current: Product, changes: dict[str, Any], updated_at: datetime, write_id: str) -> Product:
        """The product at the version a committed rename made: the item itself while no write came after it, else
        the `rename*` copy the rename left (later field updates leave it alone).
        """
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
            return _rename_snapshot(item)
        # Another rename of this product committed between ours and this read: ours is applied, and this is the
        # closest truthful answer left (the change history holds our exact version).
        return current.with_changes(changes, updated_at)

    def create(self, product: Product) -> None:
        """Insert a new product and its model lock together (the import path)."""
        partition = company_partition(product.company_id)
        item = ProductItem.from_product(product).model_dump(exclude_none=True)
        transaction: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_attribute_values(item),
                    # ids are never reused
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": "pk"},
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_attribute_values(
                        {
                            "pk": partition,
                            "sk": model_lock_sort_key(product.model_key),
                            "entity": "modelLock",
                            "productId": product.id,
                        }
                    ),
                    # the model is free in this company
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": "pk"},
                }
            },
        ]
        try:
            with translated_errors(expected=frozenset({"TransactionCanceledException"})):
                self._client.transact_write_items(TransactItems=transaction)
        except ClientError as exc:
            reasons = [reason.get("Code") for reason in exc.response.get("CancellationReasons", [])]
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise DuplicateModel(product.model) from exc
            raise _unexplained_cancellation(exc, reasons, product.id) from exc

    def create_all(self, products: Sequence[Product]) -> CreateAllOutcome:
        """Insert products and their model locks in one transaction (up to 50 products: 100 items), all or nothing.

        Nothing is written unless the outcome is clean: it then names the products that already exist (by id: an import
        re-run) and the models another product holds, so the caller can drop the first and give up on the second.
        """
        if not 0 < len(products) <= MAX_PRODUCTS_PER_TRANSACTION:
            raise ValueError(f"1 to {MAX_PRODUCTS_PER_TRANSACTION} products per transaction, not {len(products)}")
        transaction: list[TransactWriteItemTypeDef] = []
        for product in products:
            transaction += [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_attribute_values(ProductItem.from_product(product).model_dump(exclude_none=True)),
                        # a product with this id was not written before (by an earlier run of the same import)
                        "ConditionExpression": "attribute_not_exists(#pk)",
                        "ExpressionAttributeNames": {"#pk": "pk"},
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_attribute_values(
                            {
                                "pk": company_partition(product.company_id),
                                "sk": model_lock_sort_key(product.model_key),
                                "entity": "modelLock",
                                "productId": product.id,
                            }
                        ),
                        # the model is free in this company
                        "ConditionExpression": "attribute_not_exists(#pk)",
                        "ExpressionAttributeNames": {"#pk": "pk"},
                        # who holds it, when it is taken
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        try:
            with translated_errors(expected=frozenset({"TransactionCanceledException"})):
                self._client.transact_write_items(TransactItems=transaction)
        except ClientError as exc:
            return _create_all_failure(exc, products)
        return CreateAllOutcome(written=[product.id for product in products])


def _update_expression(
    changes: dict[str, Any], updated_at: datetime, write_id: str, updated_by: str | None, *, remember: bool = False
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """SET what the patch sends, REMOVE what it clears, count the write in version and updatedAt, and mark
    it with its write id and who made it (the credential id, read by the change history from the stream).
    """
    names = {"#version": "version", "#updatedAt": "updatedAt", "#writeId": "writeId", "#updatedBy": "updatedBy"}
    values: dict[str, Any] = {":one": 1, ":updatedAt": format_timestamp(updated_at), ":writeId": write_id}
    assignments = ["#version = #version + :one", "#updatedAt = :updatedAt", "#writeId = :writeId"]
    if remember:
        # which version this write makes (the version before it, plus one: SET reads the item as it was)
        names["#thisWrite"] = f"{WRITE_PREFIX}{write_id}"
        assignments.append("#thisWrite = #version + :one")
    removals = []
    if updated_by is None:
        # a write from outside the API must not inherit the previous writer's name
        removals.append("#updatedBy")
    else:
        values[":updatedBy"] = updated_by
        assignments.append("#updatedBy = :updatedBy")
    for position, (attribute, value) in enumerate(sorted(changes.items())):
        names[f"#f{position}"] = attribute
        if value is None:
            removals.append(f"#f{position}")
        else:
            values[f":f{position}"] = value
            assignments.append(f"#f{position} = :f{position}")
    if "model" in changes:
        names["#modelKey"] = "modelKey"
        values[":modelKey"] = model_key(changes["model"])
        assignments.append("#modelKey = :modelKey")
    expression = "SET " + ", ".join(assignments)
    if removals:
        expression += " REMOVE " + ", ".join(removals)
    return expression, names, values


def _unexplained_cancellation(exc: ClientError, codes: list[Any], product_id: str) -> Exception:
    """A cancelled transaction whose conditions all held: contention, unavailability, or a bug (never kept)."""
    if CONFLICT_REASONS.intersection(codes):
        return ConcurrentUpdate(product_id)
    if UNAVAILABLE_REASONS.intersection(codes):
        return StoreUnavailable(", ".join(sorted(UNAVAILABLE_REASONS.intersection(codes))))
    return StoreFailure(f"transaction cancelled: {codes} ({exc})")


def _rename_snapshot(item: dict[str, Any]) -> Product:
    """The product at the version the latest rename made, from the copy it left in the item."""
    state = {**item, "version": item["renameVersion"]}
    for attribute in (*_SNAPSHOT_FIELDS, "updatedAt"):
        if f"{RENAME_PREFIX}{attribute}" in item:
            state[attribute] = item[f"{RENAME_PREFIX}{attribute}"]
    return ProductItem.model_validate(state).to_product()


def _stale_rename(product: Product, version_condition: VersionCondition) -> Exception:
    if not version_condition.matches(product.version):
        return PreconditionFailed(stale_version_message(product.version), product.etag)
    # another rename moved the product off the model we read: the caller reads again and decides afresh
    return ConcurrentUpdate(product.id)


def _rename_failure(exc: ClientError, current: Product) -> Exception | dict[str, Any]:
    """Explain a cancelled rename from its CancellationReasons, in the order of the transaction. Only a failed
    condition is an answer (404, 412, 409 duplicate_model); a conflict is contention and reads again. A failed
    condition on the product returns the product's item, for the caller to tell its own earlier run from a stale read.
    """
    reasons: list[Any] = list(exc.response.get("CancellationReasons", []))
    codes = [reason.get("Code") for reason in reasons]
    product_reason = reasons[0] if reasons else {}
    if codes and codes[0] == "ConditionalCheckFailed":
        old = product_reason.get("Item")
        if not old:
            return ProductNotFound(current.id)
        return from_attribute_values(old)
    if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
        return DuplicateModel(current.model)
    # the old lock belongs to someone else: a concurrent writer changed it; reading again settles it
    if len(codes) > 2 and codes[2] == "ConditionalCheckFailed":
        return ConcurrentUpdate(current.id)
    return _unexplained_cancellation(exc, codes, current.id)


MAX_PRODUCTS_PER_TRANSACTION = 50  # TransactWriteItems takes 100 items: a product and its model lock each


@dataclass(frozen=True)
class CreateAllOutcome:
    """What `create_all` did: wrote every product, or nothing, saying why."""

    written: list[str] = field(default_factory=list)
    # ids of products that exist already (nothing was written)
    existing: list[str] = field(default_factory=list)
    # model -> id of the product holding it (nothing was written)
    taken_models: dict[str, str] = field(default_factory=dict)
    # a concurrent transaction on the same items: nothing was written, trying again settles it
    conflict: bool = False


def _create_all_failure(exc: ClientError, products: Sequence[Product]) -> CreateAllOutcome:
    """Read a cancelled `create_all` from its CancellationReasons: two per product, the product then its lock."""
    reasons: list[Any] = list(exc.response.get("CancellationReasons", []))
    existing: list[str] = []
    taken: dict[str, str] = {}
    for position, product in enumerate(products):
        product_reason = reasons[2 * position] if 2 * position < len(reasons) else {}
        lock_reason = reasons[2 * position + 1] if 2 * position + 1 < len(reasons) else {}
        if product_reason.get("Code") == "ConditionalCheckFailed":
            existing.append(product.id)
        elif lock_reason.get("Code") == "ConditionalCheckFailed":
            holder = from_attribute_values(lock_reason.get("Item") or {}).get("productId", "?")
            taken[product.model] = str(holder)
    codes = {reason.get("Code") for reason in reasons}
    if existing or taken:
        return CreateAllOutcome(existing=existing, taken_models=taken)
    if "TransactionConflict" in codes:
        return CreateAllOutcome(conflict=True)
    raise exc
