"""The change history's write side: PATCH through the API handler, the products table's real stream (moto or
DynamoDB Local), ProductChangesFunction's handler, the history table and the event bus (moto, read through SQS).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from changes_support import Changes
from products_api.auth.credentials import token_hash
from products_api.core.settings import ChangesSettings, ConfigurationError, read_settings
from products_api.history.recorder import PRODUCT_CREATED, PRODUCT_UPDATED, same_value
from products_api.history.store import FieldChange
from products_api.products.models import format_timestamp
from products_api.products.preconditions import ANY_VERSION
from support import EVENT_PRODUCT_ID, EVENT_TOKEN, Api

OTHER_PRODUCT_ID = "aaaaaaaaaaaaaaaaaaaaaaaa"


def credential_id(api: Api) -> str:
    credential = api.credentials.find(token_hash(EVENT_TOKEN))
    assert credential is not None
    return credential.credential_id


@pytest.fixture
def created(api: Api, changes: Changes) -> Changes:
    """The event product, its creation already delivered (history version 1, one ProductCreated)."""
    api.add_product(EVENT_PRODUCT_ID, model="LI-48V-20AH")
    _, result = changes.deliver()
    assert result == {"batchItemFailures": []}
    assert [event["detail-type"] for event in changes.published()] == [PRODUCT_CREATED]
    return changes


def sequence_numbers(records: list[dict[str, Any]]) -> list[str]:
    return [record["dynamodb"]["SequenceNumber"] for record in records]


# --- what one write records ----------------------------------------------------------------------------


def test_a_patch_records_one_entry_and_publishes_one_event(api: Api, created: Changes) -> None:
    response = api.patch(EVENT_PRODUCT_ID, {"name": "Renamed pack", "imageUrls": []})
    assert response.status == 200, response.body

    records, result = created.deliver()
    assert [record["eventName"] for record in records] == ["MODIFY"]
    assert result == {"batchItemFailures": []}

    entries = created.entries(EVENT_PRODUCT_ID)
    assert [entry.version for entry in entries] == [1, 2]
    entry = entries[1]
    assert entry.changes == (
        FieldChange(field="name", before="Li-Ion 48V Battery Pack", after="Renamed pack"),
        FieldChange(field="imageUrls", before=["https://cdn.example.com/hero.jpg"], after=[]),
    )
    assert entry.changed_by == credential_id(api)
    assert format_timestamp(entry.changed_at) == response.json["updatedAt"]

    (event,) = created.published()
    assert (event["source"], event["detail-type"]) == ("products-api", PRODUCT_UPDATED)
    assert event["detail"] == {
        "changeId": f"ACME/{EVENT_PRODUCT_ID}/2",
        "companyId": "ACME",
        "productId": EVENT_PRODUCT_ID,
        "version": 2,
        "changedFields": ["name", "imageUrls"],
        "updatedAt": response.json["updatedAt"],
        "updatedBy": credential_id(api),
    }


def test_creation_records_every_field_from_nothing(api: Api, changes: Changes) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="LI-48V-20AH", description=None)
    records, result = changes.deliver()
    # the product and its model lock
    assert sorted(record["dynamodb"]["Keys"]["sk"]["S"][:6] for record in records) == ["MODEL#", "PRODUC"]
    assert result == {"batchItemFailures": []}

    (entry,) = changes.entries(EVENT_PRODUCT_ID)
    assert entry.version == 1
    assert entry.changed_by is None  # imported, not written through the API
    assert {change.field: (change.before, change.after) for change in entry.changes} == {
        "name": (None, "Li-Ion 48V Battery Pack"),
        "model": (None, "LI-48V-20AH"),
        "defaultFieldValues": (None, {"chemistry": "NMC", "capacityWh": Decimal(960)}),
        "imageUrls": (None, ["https://cdn.example.com/hero.jpg"]),
        "status": (None, "active"),
        "sourceLocale": (None, "en"),
    }
    (event,) = changes.published()
    assert event["detail-type"] == PRODUCT_CREATED
    assert event["detail"]["version"] == 1
    assert event["detail"]["changedFields"] == ["name", "model", "defaultFieldValues", "imageUrls", "status",
                                                "sourceLocale"]  # fmt: skip


def test_an_empty_patch_records_nothing(api: Api, created: Changes) -> None:
    assert api.patch(EVENT_PRODUCT_ID, {}).status == 200
    records, _ = created.deliver()
    assert records == []
    assert [entry.version for entry in created.entries(EVENT_PRODUCT_ID)] == [1]
    assert created.published() == []


def test_a_rename_records_the_model_from_and_to(api: Api, created: Changes) -> None:
    assert api.patch(EVENT_PRODUCT_ID, {"model": "LI-48V-30AH"}).status == 200
    records, result = created.deliver()
    # the product, the new lock and the old lock's removal, written in one transaction
    assert sorted(record["eventName"] for record in records) == ["INSERT", "MODIFY", "REMOVE"]
    assert result == {"batchItemFailures": []}
    latest = created.entries(EVENT_PRODUCT_ID)[-1]
    assert latest.version == 2
    assert latest.changes == (FieldChange(field="model", before="LI-48V-20AH", after="LI-48V-30AH"),)
    (event,) = created.published()
    assert event["detail"]["changedFields"] == ["model"]


def test_clearing_the_description_records_null(api: Api, created: Changes) -> None:
    assert api.patch(EVENT_PRODUCT_ID, {"description": None}).status == 200
    created.deliver()
    latest = created.entries(EVENT_PRODUCT_ID)[-1]
    assert latest.changes == (FieldChange(field="description", before="Original description", after=None),)
    item = next(item for item in created.history_items() if item["version"] == 2)
    # stored as DynamoDB NULL, answered as null
    assert item["changes"] == [{"field": "description", "from": "Original description", "to": None}]


def test_numbers_compare_exactly(api: Api, created: Changes) -> None:
    # the stored {"chemistry": "NMC", "capacityWh": 960}, with 960 spelt 960.0: the same number, no field changed
    same = {"defaultFieldValues": {"chemistry": "NMC", "capacityWh": 960.0}}
    assert api.patch(EVENT_PRODUCT_ID, same).status == 200
    created.deliver()
    assert created.entries(EVENT_PRODUCT_ID)[-1].changes == ()
    # true is not 1: a changed field, whose new value keeps its type
    assert api.patch(EVENT_PRODUCT_ID, {"defaultFieldValues": {"chemistry": "NMC", "capacityWh": True}}).status == 200
    created.deliver()
    (change,) = created.entries(EVENT_PRODUCT_ID)[-1].changes
    assert change.field == "defaultFieldValues"
    assert change.before == {"chemistry": "NMC", "capacityWh": Decimal(960)}
    assert change.after == {"chemistry": "NMC", "capacityWh": True}


def test_a_write_that_keeps_every_value_is_still_a_version(api: Api, created: Changes) -> None:
    """The API counts a version for every write; the history explains each one, even when nothing differs."""
    assert api.patch(EVENT_PRODUCT_ID, {"status": "active"}).json["version"] == 2
    created.deliver()
    latest = created.entries(EVENT_PRODUCT_ID)[-1]
    assert (latest.version, latest.changes) == (2, ())
    (event,) = created.published()
    assert event["detail"]["changedFields"] == []


def test_the_writer_is_stored_on_the_product(api: Api, created: Changes) -> None:
    assert api.patch(EVENT_PRODUCT_ID, {"name": "x"}).status == 200
    stored = api.stored_item(EVENT_PRODUCT_ID)
    assert stored is not None
    assert stored["updatedBy"] == credential_id(api)
    assert EVENT_TOKEN not in json.dumps(stored, default=str)
    # a write from outside the API names nobody rather than inheriting the last writer
    api.products.update_fields(
        "ACME", EVENT_PRODUCT_ID, {"name": "y"}, ANY_VERSION, datetime.now(UTC), "write-outside-the-api"
    )
    stored = api.stored_item(EVENT_PRODUCT_ID)
    assert stored is not None
    assert "updatedBy" not in stored


# --- at-least-once delivery --------------------------------------------------------------------------------


def test_a_redelivered_batch_records_and_publishes_nothing_twice(api: Api, created: Changes) -> None:
    assert api.patch(EVENT_PRODUCT_ID, {"name": "first"}).status == 200
    assert api.patch(EVENT_PRODUCT_ID, {"model": "SECOND"}).status == 200
    records, result = created.deliver()
    assert result == {"batchItemFailures": []}
    items = created.history_items()
    assert len(created.published()) == 2

    assert created.invoke(records) == {"batchItemFailures": []}
    assert created.history_items() == items
    assert [entry.version for entry in created.entries(EVENT_PRODUCT_ID)] == [1, 2, 3]
    assert created.published() == []


def test_lock_items_record_nothing(api: Api, created: Changes) -> None:
    assert api.patch(EVENT_PRODUCT_ID, {"model": "NEW-MODEL"}).status == 200
    records = created.new_records()
    locks = [record for record in records if record["dynamodb"]["Keys"]["sk"]["S"].startswith("MODEL#")]
    assert sorted(record["eventName"] for record in locks) == ["INSERT", "REMOVE"]
    assert created.invoke(locks) == {"batchItemFailures": []}
    assert [entry.version for entry in created.entries(EVENT_PRODUCT_ID)] == [1]
    assert created.published() == []


@contextmanager
def failing_publish(changes: Changes, product_id: str) -> Iterator[list[str]]:
    """PutEvents answers the product's events as failed entries (what EventBridge does when it cannot take one)."""
    refused: list[str] = []

    def refuse(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        # `params` is the serialised request: PutEvents is a JSON body
        detail = json.loads(json.loads(params["body"])["Entries"][0]["Detail"])
        if detail["productId"] != product_id:
            return None
        refused.append(detail["changeId"])
        failed = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
        return AWSResponse("https://events", 200, HTTPHeaders(), None), {"FailedEntryCount": 1, "Entries": [failed]}

    events = changes.events_client.meta.events
    # a before-call handler that returns a response stands in for the request (the stubs type handlers as -> None)
    events.register("before-call.eventbridge.PutEvents", cast(Any, refuse), unique_id="refuse-put-events")
    try:
        yield refused
    finally:
        events.unregister("before-call.eventbridge.PutEvents", unique_id="refuse-put-events")


def test_a_failed_publish_is_reported_and_its_retry_records_once(api: Api, created: Changes) -> None:
    api.add_product(OTHER_PRODUCT_ID, model="OTHER")
    assert api.patch(EVENT_PRODUCT_ID, {"name": "refused at first"}).status == 200
    assert api.patch(OTHER_PRODUCT_ID, {"name": "goes through"}).status == 200
    records = created.new_records()
    failing = next(
        record
        for record in records
        if record["eventName"] == "MODIFY" and record["dynamodb"]["Keys"]["sk"]["S"] == f"PRODUCT#{EVENT_PRODUCT_ID}"
    )
    from_failing = records[sequence_numbers(records).index(failing["dynamodb"]["SequenceNumber"]) :]
    assert len(from_failing) == 2  # the refused patch, then the other product's patch

    with failing_publish(created, EVENT_PRODUCT_ID) as refused:
        result = created.invoke(records)
    assert refused == [f"ACME/{EVENT_PRODUCT_ID}/2"]
    # the failed record and every record after it are reported, so Lambda redelivers them in their order
    assert result == {"batchItemFailures": [{"itemIdentifier": number} for number in sequence_numbers(from_failing)]}
    # only what came before the failure went out
    assert [(e["detail"]["productId"], e["detail"]["version"]) for e in created.published()] == [(OTHER_PRODUCT_ID, 1)]

    # Lambda retries from the first failed record: that one and every record after it
    assert created.invoke(from_failing) == {"batchItemFailures": []}
    assert [entry.version for entry in created.entries(EVENT_PRODUCT_ID)] == [1, 2]
    assert [entry.version for entry in created.entries(OTHER_PRODUCT_ID)] == [1, 2]
    assert [e["detail"]["changeId"] for e in created.published()] == [
        f"ACME/{EVENT_PRODUCT_ID}/2",
        f"ACME/{OTHER_PRODUCT_ID}/2",
    ]


def test_a_products_events_keep_their_order_across_a_failed_publish(api: Api, created: Changes) -> None:
    assert api.patch(EVENT_PRODUCT_ID, {"name": "v2"}).status == 200
    assert api.patch(EVENT_PRODUCT_ID, {"name": "v3"}).status == 200
    records = created.new_records()
    # every record of the batch failed (v2 refused, v3 held back): the invocation fails and Lambda retries it whole
    with failing_publish(created, EVENT_PRODUCT_ID) as refused, pytest.raises(Exception, match="All records failed"):
        created.invoke(records)
    # v3 was not even tried while v2 is owed: its event cannot overtake v2's
    assert refused == [f"ACME/{EVENT_PRODUCT_ID}/2"]
    assert created.published() == []
    assert created.invoke(records) == {"batchItemFailures": []}
    assert [event["detail"]["version"] for event in created.published()] == [2, 3]


def test_a_batch_that_fails_entirely_raises_so_lambda_retries_it(api: Api, created: Changes) -> None:
    assert api.patch(EVENT_PRODUCT_ID, {"name": "refused"}).status == 200
    records = created.new_records()
    with failing_publish(created, EVENT_PRODUCT_ID), pytest.raises(Exception, match="All records failed"):
        created.invoke(records)
    assert created.invoke(records) == {"batchItemFailures": []}
    assert [event["detail"]["version"] for event in created.published()] == [2]


# --- pieces ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        (Decimal("1.50"), Decimal("1.5"), True),
        (Decimal(1), 1, True),
        (True, Decimal(1), False),
        (None, None, True),
        (None, "", False),
        ({"a": [Decimal(1), {"b": False}]}, {"a": [Decimal(1), {"b": False}]}, True),
        ({"a": [Decimal(1), {"b": False}]}, {"a": [Decimal(1), {"b": Decimal(0)}]}, False),
        ({"a": 1}, {"a": 1, "b": None}, False),
        (["x", "y"], ["y", "x"], False),
        ({}, None, False),
        ([], None, False),
    ],
)
def test_same_value(left: Any, right: Any, same: bool) -> None:
    assert same_value(left, right) is same
    assert same_value(right, left) is same


def test_the_stream_function_reads_only_its_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("HISTORY_TABLE_NAME", "EVENT_BUS_NAME", "LIMITS_TABLE_NAME", "PRODUCTS_TABLE_NAME"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ConfigurationError) as refused:
        read_settings(ChangesSettings)
    assert "HISTORY_TABLE_NAME" in str(refused.value)
    assert "EVENT_BUS_NAME" in str(refused.value)
    assert "LIMITS_TABLE_NAME" in str(refused.value)  # the meter's
    # the API's tables are none of its business
    monkeypatch.setenv("HISTORY_TABLE_NAME", "HistoryTable")
    monkeypatch.setenv("EVENT_BUS_NAME", "products-api-local-products")
    monkeypatch.setenv("LIMITS_TABLE_NAME", "LimitsTable")
    assert read_settings(ChangesSettings).history_table_name == "HistoryTable"
