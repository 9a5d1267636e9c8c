"""The items of the transactions a product write sends (a product and its model lock), and reading a cancelled one
from its CancellationReasons: which condition failed says what the caller
answers (404, 412, 409 duplicate_model), a conflict is contention, anything else unavailability or a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from products_api.core.dynamodb import (
    CONFLICT_REASONS,
    UNAVAILABLE_REASONS,
    from_attribute_values,
    to_attribute_values,
)
from products_api.errors import (
    ConcurrentUpdate,
    DuplicateModel,
    ProductNotFound,
    StoreFailure,
    StoreUnavailable,
)
from products_api.products.items import ProductItem
from products_api.products.models import (
    Product,
    company_partition,
    model_key,
    model_lock_sort_key,
)
from products_api.products.preconditions import VersionCondition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import PutTypeDef, TransactWriteItemTypeDef


def unexplained_cancellation(exc: ClientError, codes: list[Any], product_id: str) -> Exception:
    """A cancelled transaction whose conditions all held: contention, unavailability, or a bug (never kept)."""
    if CONFLICT_REASONS.intersection(codes):
        return ConcurrentUpdate(product_id)
    if UNAVAILABLE_REASONS.intersection(codes):
        return StoreUnavailable(", ".join(sorted(UNAVAILABLE_REASONS.intersection(codes))))
    return StoreFailure(f"transaction cancelled: {codes} ({exc})")


def stale_rename(product: Product, version_condition: VersionCondition) -> Exception:
    if not version_condition.matches(product.version):
        return version_condition.failure(product.version, product.etag)
    # another rename moved the product off the model we read: the caller reads again and decides afresh
    return ConcurrentUpdate(product.id)


@dataclass(frozen=True)
class OtherFieldsMoved:
    """A rename transaction that required the version read found it moved by writes of other fields only: nothing
    was written, and `item` (the product item as the cancellation returned it) is what the next try requires.
    """

    product: Product
    item: dict[str, Any]


def rename_failure(exc: ClientError, current: Product) -> Exception | dict[str, Any]:
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
    return unexplained_cancellation(exc, codes, current.id)


# A rename tries this many times requiring the version it read (then the version a cancellation showed) before it
# requires only the model: each such try answers without a read-back.
PINNED_RENAME_TRIES = 2
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


def create_all_failure(exc: ClientError, products: Sequence[Product]) -> CreateAllOutcome:
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


def new_product_puts(table: str, product: Product, *, report_holder: bool = False) -> list[TransactWriteItemTypeDef]:
    """A new product and the lock of its model: both only if absent (ids are never reused; the model is free)."""
    lock: dict[str, Any] = {
        "pk": company_partition(product.company_id),
        "sk": model_lock_sort_key(product.model_key),
        "entity": "modelLock",
        "productId": product.id,
    }
    lock_put: PutTypeDef = {
        "TableName": table,
        "Item": to_attribute_values(lock),
        # the model is free in this company
        "ConditionExpression": "attribute_not_exists(#pk)",
        "ExpressionAttributeNames": {"#pk": "pk"},
    }
    if report_holder:
        # who holds it, when it is taken
        lock_put["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return [
        {
            "Put": {
                "TableName": table,
                "Item": to_attribute_values(ProductItem.from_product(product).model_dump(exclude_none=True)),
                # ids are never reused: a product with this id was not written before (by an earlier run of the
                # same import, say)
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": {"#pk": "pk"},
            }
        },
        {"Put": lock_put},
    ]


def lock_move(table: str, current: Product, new_model: str) -> list[TransactWriteItemTypeDef]:
    """A rename's lock items: the new model's lock taken, the old one freed (beside the product's update)."""
    partition = company_partition(current.company_id)
    return [
        {
            "Put": {
                "TableName": table,
                "Item": to_attribute_values(
                    {
                        "pk": partition,
                        "sk": model_lock_sort_key(model_key(new_model)),
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
                "TableName": table,
                "Key": to_attribute_values({"pk": partition, "sk": model_lock_sort_key(current.model_key)}),
                # the old lock is ours to free (absent only for data written without locks)
                "ConditionExpression": "attribute_not_exists(#pk) OR #productId = :productId",
                "ExpressionAttributeNames": {"#pk": "pk", "#productId": "productId"},
                "ExpressionAttributeValues": to_attribute_values({":productId": current.id}),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    ]
