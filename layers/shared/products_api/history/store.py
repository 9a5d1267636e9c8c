"""Change history: every DynamoDB call of the history table, and its shapes, live here.

One item per product version (tenant first): pk=COMPANY#<company>#PRODUCT#<id>, version=<n> (a number, so a
Query walks a product's history in version order). The stream function writes them; the history route reads them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from products_api.core.dynamodb import (
    StoredItem,
    from_attribute_values,
    plain_int,
    to_attribute_values,
    translated_errors,
)
from products_api.products.models import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


# Set on a history item once its event is published (the item is written first, the event after).
PUBLISHED_AT = "eventPublishedAt"


class HistoryEntryMissing(RuntimeError):
    """An entry to mark as published is not in the history table (deleted by hand between the two writes)."""


def history_partition(company_id: str, product_id: str) -> str:
    return f"COMPANY#{company_id}#PRODUCT#{product_id}"


class FieldChange(BaseModel):
    """One field of one write: its API name and its value before and after (None: absent or null)."""

    model_config = ConfigDict(frozen=True)

    field: str
    before: Any = None
    after: Any = None


class HistoryEntry(BaseModel):
    """What one write of a product changed (domain shape)."""

    model_config = ConfigDict(frozen=True)

    company_id: str
    product_id: str
    version: int = Field(ge=1)
    changed_at: datetime
    # The credential id that made the write (never the token); None for writes made outside the API (import).
    changed_by: str | None
    changes: tuple[FieldChange, ...]


class HistoryItem(StoredItem):
    """The history item as stored in DynamoDB (after TypeDeserializer)."""

    pk: str
    version: int
    company_id: str
    product_id: str
    changed_at: str
    changed_by: str | None = None
    changes: list[dict[str, Any]]

    @classmethod
    def from_entry(cls, entry: HistoryEntry) -> HistoryItem:
        return cls(
            pk=history_partition(entry.company_id, entry.product_id),
            version=entry.version,
            company_id=entry.company_id,
            product_id=entry.product_id,
            changed_at=format_timestamp(entry.changed_at),
            changed_by=entry.changed_by,
            # `from`/`to` as stored and answered; None stays None (DynamoDB NULL)
            changes=[{"field": c.field, "from": c.before, "to": c.after} for c in entry.changes],
        )

    def to_entry(self) -> HistoryEntry:
        return HistoryEntry(
            company_id=self.company_id,
            product_id=self.product_id,
            version=plain_int(self.version),
            changed_at=parse_timestamp(self.changed_at),
            changed_by=self.changed_by,
            changes=tuple(
                FieldChange(field=change["field"], before=change.get("from"), after=change.get("to"))
                for change in self.changes
            ),
        )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class HistoryPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    entries: tuple[HistoryEntry, ...]
    # The version to continue below, or None when the history is exhausted.
    next_before_version: int | None


class HistoryStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def record(self, entry: HistoryEntry) -> bool:
        """Store the entry once; True while its event is still owed: the entry is new, or an earlier delivery of the
        same stream record stored it but did not get to publish (its publish failed or the function was cut off).
        """
        existing = self._put(entry)
        return existing is None or PUBLISHED_AT not in existing

    def mark_published(self, entry: HistoryEntry, published_at: datetime) -> None:
        """Note that the entry's event went out, so a redelivered record does not publish it again."""
        try:
            with translated_errors(expected=frozenset({"ConditionalCheckFailedException"})):
                self._client.update_item(
                    TableName=self._table,
                    Key=to_attribute_values(
                        {"pk": history_partition(entry.company_id, entry.product_id), "version": entry.version}
                    ),
                    UpdateExpression="SET #publishedAt = if_not_exists(#publishedAt, :now)",
                    # the entry exists: UpdateItem would otherwise create a record without its changes
                    ConditionExpression="attribute_exists(#pk)",
                    ExpressionAttributeNames={"#publishedAt": PUBLISHED_AT, "#pk": "pk"},
                    ExpressionAttributeValues=to_attribute_values({":now": format_timestamp(published_at)}),
                )
        except ClientError as exc:
            if _error_code(exc) != "ConditionalCheckFailedException":
                raise  # not about the entry (permissions, a missing table): no reason to say it is missing
            raise HistoryEntryMissing(f"{entry.company_id}/{entry.product_id}/{entry.version}") from exc

    def _put(self, entry: HistoryEntry) -> dict[str, Any] | None:
        """Put the entry unless its version is recorded; None when written, else the item already there."""
        item = HistoryItem.from_entry(entry).model_dump()
        try:
            with translated_errors(expected=frozenset({"ConditionalCheckFailedException"})):
                self._client.put_item(
                    TableName=self._table,
                    Item=to_attribute_values(item),
                    # this version has no record yet: a retried batch must not write it twice
                    ConditionExpression="attribute_not_exists(#version)",
                    ExpressionAttributeNames={"#version": "version"},
                    # the record already there says whether its event went out, without a second read
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as exc:
            if _error_code(exc) != "ConditionalCheckFailedException":
                # anything else (permissions, a missing table) stored nothing: taken for "already stored", it would
                # publish an event for an entry that does not exist
                raise
            old: dict[str, Any] = exc.response.get("Item") or {}  # type: ignore[assignment]
            return from_attribute_values(old)
        return None

    def page(self, company_id: str, product_id: str, limit: int, before_version: int | None = None) -> HistoryPage:
        """Newest first: up to `limit` entries with a version below `before_version` (all when None)."""
        condition = "#pk = :pk"
        names = {"#pk": "pk"}
        values: dict[str, Any] = {":pk": history_partition(company_id, product_id)}
        if before_version is not None:
            condition += " AND #version < :before"
            names["#version"] = "version"
            values[":before"] = before_version
        with translated_errors():
            response = self._client.query(
                TableName=self._table,
                KeyConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_attribute_values(values),
                ScanIndexForward=False,
                # one more than asked tells whether another page exists without a second query
                Limit=limit + 1,
            )
        items = [HistoryItem.model_validate(from_attribute_values(item)) for item in response.get("Items", [])]
        entries = tuple(item.to_entry() for item in items[:limit])
        # A Query also stops at 1 MB read, whatever Limit says: entries of large products (each holds the old and the
        # new value) reach that before `limit`. The page is then short, and the next one continues below it.
        more = len(items) > limit or "LastEvaluatedKey" in response
        return HistoryPage(entries=entries, next_before_version=entries[-1].version if more and entries else None)
