"""What a product item remembers of the writes made to it, and how a write says so: the update expression of a
field write, the write ids a keyed write leaves (so a re-run is recognised after its idempotency record is lost),
and the copy a rename leaves of the version it made. Pure functions on items: ProductStore makes the calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from products_api.products.items import ProductItem
from products_api.products.models import (
    Product,
    format_timestamp,
    model_key,
)
from products_api.products.preconditions import VersionCondition

if TYPE_CHECKING:
    pass


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
SNAPSHOT_FIELDS = ("name", "model", "description", "defaultFieldValues", "imageUrls", "status", "sourceLocale")


def remembered_answer(item: dict[str, Any], write_id: str) -> Product | None:
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
        return rename_snapshot(item)
    return stored.to_product()


def writes_to_forget(item: dict[str, Any]) -> list[str]:
    """The oldest remembered writes' attributes, once the item holds PRUNE_AT of them (else none)."""
    remembered = sorted((name for name in item if name.startswith(WRITE_PREFIX)), key=lambda name: item[name])
    if len(remembered) < PRUNE_AT:
        return []
    return remembered[: len(remembered) - REMEMBERED_WRITES]


def update_expression(
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


def rename_snapshot(item: dict[str, Any]) -> Product:
    """The product at the version the latest rename made, from the copy it left in the item."""
    state = {**item, "version": item["renameVersion"]}
    for attribute in (*SNAPSHOT_FIELDS, "updatedAt"):
        if f"{RENAME_PREFIX}{attribute}" in item:
            state[attribute] = item[f"{RENAME_PREFIX}{attribute}"]
    return ProductItem.model_validate(state).to_product()


def with_rename_snapshot(
    expression: str, names: dict[str, str], values: dict[str, Any], changes: dict[str, Any]
) -> str:
    """A rename's update expression that also copies the version it makes into `rename*` attributes, as it is at
    that version: what it sets, and the fields it leaves alone (read back by rename_snapshot after the commit).
    """
    snapshot = [f"{RENAME_WRITE_ID} = :writeId", f"{RENAME_VERSION} = #version + :one"]
    names[RENAME_WRITE_ID] = "renameWriteId"
    names[RENAME_VERSION] = "renameVersion"
    names["#sUpdatedAt"] = f"{RENAME_PREFIX}updatedAt"
    snapshot.append("#sUpdatedAt = :updatedAt")
    values[":nothing"] = None
    for position, attribute in enumerate(SNAPSHOT_FIELDS):
        names[f"#s{position}"] = f"{RENAME_PREFIX}{attribute}"
        if attribute in changes:
            values[f":s{position}"] = changes[attribute]
            snapshot.append(f"#s{position} = :s{position}")
        else:
            names[f"#o{position}"] = attribute
            snapshot.append(f"#s{position} = if_not_exists(#o{position}, :nothing)")
    return expression.replace("SET ", "SET " + ", ".join(snapshot) + ", ", 1)


def write_conditions(values: dict[str, Any], version_condition: VersionCondition, *, remember: bool) -> list[str]:
    """What every write of a product's fields requires (its expression names #pk, #writeId, #version and, when it
    remembers its write, #thisWrite; `values` gets the If-Match version's placeholder)."""
    conditions = [
        # the product exists (in this company: the key holds it): UpdateItem would otherwise create it
        "attribute_exists(#pk)",
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
    return conditions
