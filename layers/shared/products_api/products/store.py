"""Product storage: every DynamoDB call of the product table, and nothing else, lives here.

Items (tenant first): a product is pk=COMPANY#<company>, sk=PRODUCT#<id>; the lock that makes its model
unique is pk=COMPANY#<company>, sk=MODEL#<model key> with the owning productId.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from products_api.core.dynamodb import from_attribute_values, to_attribute_values, translated_errors
from products_api.errors import ConcurrentUpdate, DuplicateModel, ProductNotFound
from products_api.products.items import ProductItem
from products_api.products.models import (
    Product,
    Status,
    company_partition,
    format_timestamp,
    model_key,
    model_lock_sort_key,
    product_sort_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from products_api.products.preconditions import VersionCondition


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
                raise version_condition.failure(current.version, current.etag) from exc
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
