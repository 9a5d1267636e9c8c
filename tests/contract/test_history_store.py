"""The history table's store: one record per version, newest first, pages that continue where the last stopped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError
from products_api.errors import StoreFailure
from products_api.history.store import FieldChange, HistoryEntry, HistoryStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

COMPANY = "acme"
PRODUCT = "6650a1b2c3d4e5f6a7b8c9d0"
START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def _entry(version: int, *, product: str = PRODUCT, company: str = COMPANY) -> HistoryEntry:
    return HistoryEntry(
        company_id=company,
        product_id=product,
        version=version,
        changed_at=START + timedelta(minutes=version),
        changed_by="key-1" if version > 1 else None,
        changes=(
            FieldChange(field="name", before=f"name {version - 1}" if version > 1 else None, after=f"name {version}"),
            FieldChange(field="defaultFieldValues", before={"n": Decimal("0.1")}, after={"n": Decimal("0.10")}),
        ),
    )


def test_an_entry_reads_back_as_written(dynamodb_client: DynamoDBClient, table_names: dict[str, str]) -> None:
    store = HistoryStore(dynamodb_client, table_names["HistoryTable"])
    entry = _entry(2)
    assert store.record(entry) is True
    page = store.page(COMPANY, PRODUCT, limit=10)
    assert page.entries == (entry,)
    assert page.next_before_version is None


def test_a_version_is_recorded_once(dynamodb_client: DynamoDBClient, table_names: dict[str, str]) -> None:
    store = HistoryStore(dynamodb_client, table_names["HistoryTable"])
    assert store.record(_entry(3)) is True
    redelivered = _entry(3).model_copy(update={"changed_by": "someone-else"})
    # stored before but its event not marked published: still owed, and the first entry stays as it was
    assert store.record(redelivered) is True
    store.mark_published(_entry(3), START)
    assert store.record(redelivered) is False
    assert store.page(COMPANY, PRODUCT, limit=10).entries == (_entry(3),)


def test_an_error_other_than_the_condition_is_not_taken_for_a_stored_entry(dynamodb_client: DynamoDBClient) -> None:
    # a table that does not exist (a wrong name, missing permissions alike): nothing was stored, so no event is owed
    store = HistoryStore(dynamodb_client, "no-such-history-table")
    with pytest.raises(StoreFailure) as raised:
        store.record(_entry(2))
    cause = raised.value.__cause__
    assert isinstance(cause, ClientError) and cause.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(StoreFailure):
        store.mark_published(_entry(2), START)


def test_pages_of_large_entries_continue_past_the_1_mb_a_query_reads(
    dynamodb_client: DynamoDBClient, table_names: dict[str, str]
) -> None:
    """A Query stops after 1 MB whatever its Limit: 12 entries of ~120 KB fill less than a page of 20."""
    store = HistoryStore(dynamodb_client, table_names["HistoryTable"])
    large = {"blob": "x" * 60_000}
    for version in range(1, 13):
        entry = _entry(version).model_copy(
            update={"changes": (FieldChange(field="defaultFieldValues", before=large, after=large),)}
        )
        store.record(entry)
    seen: list[int] = []
    before: int | None = None
    while True:
        page = store.page(COMPANY, PRODUCT, limit=20, before_version=before)
        seen.extend(entry.version for entry in page.entries)
        if page.next_before_version is None:
            break
        before = page.next_before_version
    assert seen == list(range(12, 0, -1))


def test_pages_walk_newest_first_and_stop(dynamodb_client: DynamoDBClient, table_names: dict[str, str]) -> None:
    store = HistoryStore(dynamodb_client, table_names["HistoryTable"])
    for version in range(1, 8):
        store.record(_entry(version))
    # another product and another company's product of the same id stay out of the pages
    store.record(_entry(9, product="aaaaaaaaaaaaaaaaaaaaaaaa"))
    store.record(_entry(9, company="other"))

    seen: list[int] = []
    before: int | None = None
    pages = 0
    while True:
        page = store.page(COMPANY, PRODUCT, limit=3, before_version=before)
        pages += 1
        seen.extend(entry.version for entry in page.entries)
        if page.next_before_version is None:
            break
        before = page.next_before_version
    assert seen == [7, 6, 5, 4, 3, 2, 1]
    assert pages == 3


def test_an_exact_page_says_there_is_no_more(dynamodb_client: DynamoDBClient, table_names: dict[str, str]) -> None:
    store = HistoryStore(dynamodb_client, table_names["HistoryTable"])
    for version in (1, 2):
        store.record(_entry(version))
    page = store.page(COMPANY, PRODUCT, limit=2)
    assert [entry.version for entry in page.entries] == [2, 1]
    assert page.next_before_version is None
    assert store.page(COMPANY, PRODUCT, limit=5, before_version=1).entries == ()
