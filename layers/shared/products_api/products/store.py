"""Product storage: every DynamoDB call of the product table, and nothing else, lives here.

Items (tenant first): a product is pk=COMPANY#<company>, sk=PRODUCT#<id>; the lock that makes its model
unique is pk=COMPANY#<company>, sk=MODEL#<model key> with the owning productId.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from products_api.core.dynamodb import from_attribute_values, to_attribute_values, translated_errors
from products_api.errors import ConcurrentUpdate, DuplicateModel, PreconditionFailed, ProductNotFound
from products_api.products.items import ProductItem
from products_api.products.models import (
    Product,
    company_partition,
    format_timestamp,
    model_key,
    model_lock_sort_key,
    product_sort_key,
)
from products_api.products.preconditions import stale_version_message

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from products_api.products.preconditions import VersionCondition


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
    ) -> Product:
        """One conditional UpdateItem. Fields not in `changes` are untouched, so concurrent patches of
        different fields both apply. The failed condition's ALL_OLD image tells 404 from 412 without a read.
        """
        expression, names, values = _update_expression(changes, updated_at, write_id, updated_by)
        names["#pk"] = "pk"
        conditions = [
            # the product exists: UpdateItem would otherwise create it
            "attribute_exists(#pk)",
            # this write is not applied yet: a retry after a lost response must not count it twice
            "(attribute_not_exists(#writeId) OR #writeId <> :writeId)",
        ]
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
            old: dict[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
            if not old:
                raise ProductNotFound(product_id) from exc
            stored = ProductItem.model_validate(from_attribute_values(old))
            current = stored.to_product()
            if stored.write_id == write_id:
                # an earlier attempt of this very write got through: its result is the answer
                return current
            if not version_condition.matches(current.version):
                raise PreconditionFailed(stale_version_message(current.version), current.etag) from exc
            raise ConcurrentUpdate(product_id) from exc
        return ProductItem.model_validate(from_attribute_values(response["Attributes"])).to_product()

    def rename(
        self,
        current: Product,
        changes: dict[str, Any],
        updated_at: datetime,
        write_id: str,
        *,
        updated_by: str | None = None,
    ) -> Product:
        """Move the model lock and update the product in one transaction.

        `current` is what a consistent read returned; the transaction holds only while the product is still
        exactly that version, so the lock we delete is the one we read and the product we return is exact.
        """
        updated = current.with_changes(changes, updated_at)
        partition = company_partition(current.company_id)
        expression, names, values = _update_expression(changes, updated_at, write_id, updated_by)
        names["#pk"] = "pk"
        values[":readVersion"] = current.version
        transaction: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._key(current.company_id, current.id),
                    "UpdateExpression": expression,
                    # the product is still the version we read, hence still the model whose lock we move
                    "ConditionExpression": "attribute_exists(#pk) AND #version = :readVersion",
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
                            "sk": model_lock_sort_key(updated.model_key),
                            "entity": "modelLock",
                            "productId": current.id,
                        }
                    ),
                    # nobody in this company holds the new model yet
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": "pk"},
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
            raise _rename_failure(exc, current) from exc
        return updated

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
            raise

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
    changes: dict[str, Any], updated_at: datetime, write_id: str, updated_by: str | None
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """SET what the patch sends, REMOVE what it clears, count the write in version and updatedAt, and mark
    it with its write id and who made it (the credential id, read by the change history from the stream).
    """
    names = {"#version": "version", "#updatedAt": "updatedAt", "#writeId": "writeId", "#updatedBy": "updatedBy"}
    values: dict[str, Any] = {":one": 1, ":updatedAt": format_timestamp(updated_at), ":writeId": write_id}
    assignments = ["#version = #version + :one", "#updatedAt = :updatedAt", "#writeId = :writeId"]
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


def _rename_failure(exc: ClientError, current: Product) -> Exception:
    """Explain a cancelled rename from its CancellationReasons, in the order of the transaction."""
    reasons: list[Any] = list(exc.response.get("CancellationReasons", []))
    codes = [reason.get("Code") for reason in reasons]
    product_reason = reasons[0] if reasons else {}
    if codes and codes[0] == "ConditionalCheckFailed":
        if not product_reason.get("Item"):
            return ProductNotFound(current.id)
        # the product moved on since our read: the caller reads again and decides afresh
        return ConcurrentUpdate(current.id)
    if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
        return DuplicateModel(current.model)
    if "TransactionConflict" in codes:
        return ConcurrentUpdate(current.id)
    # the old lock belongs to someone else: a concurrent writer changed it; reading again settles it
    if len(codes) > 2 and codes[2] == "ConditionalCheckFailed":
        return ConcurrentUpdate(current.id)
    return exc
