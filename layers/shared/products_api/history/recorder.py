"""The change history's write side: a products-table stream record becomes a history entry and an event.

For each write of a product (INSERT or MODIFY of a `PRODUCT#` item) the stream function stores what changed in the
history table, once per version, then publishes `ProductCreated` / `ProductUpdated` on the event bus. Model locks,
deletions and anything else on the stream are ignored here as well as by the event source's filter, because DynamoDB
Local and the local runner apply no filter.

Delivery is at least once at every step: the history put is conditional on the version (a redelivered record writes
nothing), and the item notes when its event went out, so a redelivery publishes only events still owed. An event is
repeated only when the function stops between publishing and noting it; consumers dedupe on `detail.changeId`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from products_api.api.observability import protect_library_logs
from products_api.core import jsonio
from products_api.core.dynamodb import client_config, make_client
from products_api.core.settings import ChangesSettings, read_settings
from products_api.history.store import FieldChange, HistoryEntry, HistoryStore
from products_api.limits.meter import WriteMeter
from products_api.limits.store import LimitsStore
from products_api.products.items import ProductItem
from products_api.products.models import format_timestamp, parse_timestamp, utc_now

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from mypy_boto3_events.client import EventBridgeClient

# The product's fields as the API names them (and as they are stored): what a history entry compares.
API_FIELDS = ("name", "model", "description", "defaultFieldValues", "imageUrls", "status", "sourceLocale")
PRODUCT_SORT_KEY_PREFIX = "PRODUCT#"
EVENT_SOURCE = "products-api"
PRODUCT_CREATED = "ProductCreated"
PRODUCT_UPDATED = "ProductUpdated"
_RECORDED_EVENTS = frozenset({"INSERT", "MODIFY"})


class EventPublishFailed(RuntimeError):
    """EventBridge refused the event (PutEvents answered it as a failed entry): the record is retried."""


@dataclass(frozen=True)
class StreamChange:
    """One stream record, its images deserialised (numbers as Decimal)."""

    event_name: str  # INSERT, MODIFY or REMOVE
    keys: dict[str, Any]
    old_image: dict[str, Any]
    new_image: dict[str, Any]

    @classmethod
    def from_record(cls, record: DynamoDBRecord) -> StreamChange:
        stream = record.dynamodb
        return cls(
            event_name=record.event_name.name if record.event_name is not None else "",
            keys=stream.keys if stream is not None else {},
            old_image=stream.old_image if stream is not None else {},
            new_image=stream.new_image if stream is not None else {},
        )

    @property
    def is_product(self) -> bool:
        sort_key = self.keys.get("sk")
        return isinstance(sort_key, str) and sort_key.startswith(PRODUCT_SORT_KEY_PREFIX)


def same_value(left: Any, right: Any) -> bool:
    """Exact equality of two deserialised DynamoDB values: `True` is not `1`, and `1.50` is `1.5` (one number)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | Decimal) or isinstance(right, int | Decimal):
        return isinstance(left, int | Decimal) and isinstance(right, int | Decimal) and left == right
    if isinstance(left, dict) or isinstance(right, dict):
        return (
            isinstance(left, dict)
            and isinstance(right, dict)
            and left.keys() == right.keys()
            and all(same_value(left[key], right[key]) for key in left)
        )
    if isinstance(left, list) or isinstance(right, list):
        return (
            isinstance(left, list)
            and isinstance(right, list)
            and len(left) == len(right)
            and all(same_value(a, b) for a, b in zip(left, right, strict=True))
        )
    return type(left) is type(right) and bool(left == right)


def history_entry(change: StreamChange) -> HistoryEntry | None:
    """What the write changed, or None when the record is not a product write (a lock, a deletion, a replay of the
    same version). An INSERT records every field from None.
    """
    if change.event_name not in _RECORDED_EVENTS or not change.is_product:
        return None
    new = ProductItem.model_validate(change.new_image)
    before: dict[str, Any] = {}
    if change.event_name == "MODIFY":
        old = ProductItem.model_validate(change.old_image)
        if new.version <= old.version:
            # every write of the API counts a version; a change without one is nobody's write to record
            return None
        before = change.old_image
    changes = tuple(
        FieldChange(field=field, before=before.get(field), after=change.new_image.get(field))
        for field in API_FIELDS
        if not same_value(before.get(field), change.new_image.get(field))
    )
    return HistoryEntry(
        company_id=new.company_id,
        product_id=new.id,
        version=new.version,
        changed_at=parse_timestamp(new.updated_at),
        changed_by=new.updated_by,
        changes=changes,
    )


def change_id(entry: HistoryEntry) -> str:
    """One id per product version: the same for every delivery of the event, so consumers can dedupe on it."""
    return f"{entry.company_id}/{entry.product_id}/{entry.version}"


class ProductChangedDetail(BaseModel):
    """The `detail` of ProductCreated and ProductUpdated events."""

    # The event's members are camelCase: aliases spell them (serialised by alias); Python code uses snake_case.
    model_config = ConfigDict(frozen=True, alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True)

    change_id: str = Field(description="<companyId>/<productId>/<version>: dedupe on it")
    company_id: str
    product_id: str
    version: int
    changed_fields: list[str]
    updated_at: str
    updated_by: str | None

    @classmethod
    def from_entry(cls, entry: HistoryEntry) -> ProductChangedDetail:
        return cls(
            change_id=change_id(entry),
            company_id=entry.company_id,
            product_id=entry.product_id,
            version=entry.version,
            changed_fields=[change.field for change in entry.changes],
            updated_at=format_timestamp(entry.changed_at),
            updated_by=entry.changed_by,
        )


class EventPublisher:
    def __init__(self, client: EventBridgeClient, bus_name: str) -> None:
        self._client = client
        self._bus_name = bus_name

    def publish(self, entry: HistoryEntry, detail_type: str) -> None:
        """One PutEvents per entry; a failed entry raises, so the batch reports its record as failed."""
        detail = ProductChangedDetail.from_entry(entry)
        response = self._client.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": jsonio.dumps(detail.model_dump()),
                    "EventBusName": self._bus_name,
                    "Time": entry.changed_at,
                }
            ]
        )
        if response.get("FailedEntryCount", 0):
            failed = response["Entries"][0]
            raise EventPublishFailed(
                f"{detail_type} {detail.change_id}: {failed.get('ErrorCode', '?')}: {failed.get('ErrorMessage', '')}"
            )


@dataclass(frozen=True)
class RecordedChange:
    entry: HistoryEntry
    # Whether this delivery published the event (False: a delivery before it did).
    published: bool


class ProductChangeRecorder:
    def __init__(
        self,
        history: HistoryStore,
        publisher: EventPublisher,
        meter: WriteMeter,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._history = history
        self._publisher = publisher
        self._meter = meter
        self._clock = clock

    def record(self, change: StreamChange) -> RecordedChange | None:
        """Store the change's history entry (once), then publish its event unless a delivery before did.

        Raises when the store or the bus fails, so the record is retried; None when the record is not a product write.
        """
        entry = history_entry(change)
        if entry is None:
            return None
        # First, and on every delivery: the meter counts each version once by itself, so a delivery that stopped
        # after the history entry (or after the event) still gets the write counted.
        self._meter.count(entry)
        if not self._history.record(entry):
            return RecordedChange(entry, published=False)
        self._publisher.publish(entry, PRODUCT_CREATED if change.event_name == "INSERT" else PRODUCT_UPDATED)
        self._history.mark_published(entry, self._clock())
        return RecordedChange(entry, published=True)


def make_events_client(settings: ChangesSettings, session: boto3.Session | None = None) -> EventBridgeClient:
    """Explicit timeouts and attempts, as for DynamoDB: a slow bus fails the record within the function's time."""
    config = client_config(
        settings.events_connect_timeout_seconds, settings.events_read_timeout_seconds, settings.events_max_attempts
    )
    return (session or boto3.Session()).client("events", config=config)


def build_recorder(
    settings: ChangesSettings, session: boto3.Session | None = None, clock: Callable[[], datetime] = utc_now
) -> ProductChangeRecorder:
    """Wire the recorder on clients made as a container makes them (the session lets tests pick the backend)."""
    protect_library_logs()
    client = make_client(settings, session)
    return ProductChangeRecorder(
        HistoryStore(client, settings.history_table_name),
        EventPublisher(make_events_client(settings, session), settings.event_bus_name),
        WriteMeter(LimitsStore(client, settings.limits_table_name), time.time),
        clock,
    )


@functools.cache
def get_recorder() -> ProductChangeRecorder:
    """Built on the first record a container handles, then reused."""
    return build_recorder(read_settings(ChangesSettings))
