"""Issue 10: the update path says only what is true under contention and retries. Regression tests, each failing
without its fix, for:

1. only a failed condition is 404 / 409 duplicate_model / 412; a transaction conflict is contention (retried, then
   409 concurrent_update, never kept); an error with no meaning is 500, never kept;
2. (renames and other fields: tests/test_races.py, test_a_rename_is_never_aborted_by_endless_updates_of_other_fields);
3. a re-run with the same key (and If-Match) after its record was lost answers its write, even after later writes;
4. a key reused after its record expired, with another body, is a new request.
(5 to 7, stored values: tests/test_stored_values.py.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from products_api.products import write_memory
from products_api_local.stress import conflict_response, error_response, failing
from support import EVENT_PRODUCT_ID, Api, FakeContext

LOCAL_ONLY = [pytest.mark.dynamodb_local, pytest.mark.parametrize("backend", ["dynamodb_local"], indirect=True)]
# Half a second of retries: the function's remaining time, less the default 2 s margin.
SHORT_CONTEXT_MS = 2500


def _delete_idempotency_records(api: Api) -> None:
    """What a lost record (or one past its expiry) looks like to the next request."""
    for record in api.idempotency_records():
        api.client.delete_item(TableName=api.settings.idempotency_table_name, Key={"id": {"S": record["id"]}})


# --- 1. only a failed condition is an answer ------------------------------------------------------------------------


# A transaction conflict on each write path: (body, the call it fails, the failure, whether only the products table's
# calls fail). A field update is one UpdateItem on the products table (the idempotency table's UpdateItem must go
# through); a rename is one TransactWriteItems (with the model locks), which names no single table.
CONFLICTS: dict[str, tuple[dict[str, Any], str, Callable[[], AWSResponse], bool]] = {
    "field-update": (
        {"name": "x"},
        "UpdateItem",
        lambda: error_response(400, "TransactionConflictException"),
        True,
    ),
    "rename": ({"model": "NEW"}, "TransactWriteItems", conflict_response, False),
}


@pytest.mark.parametrize("backend", ["dynamodb_local"], indirect=True)
@pytest.mark.dynamodb_local
@pytest.mark.parametrize("write", sorted(CONFLICTS))
def test_a_transaction_conflict_that_persists_is_contention_and_writes_nothing(api: Api, write: str) -> None:
    body, operation, conflict, products_table_only = CONFLICTS[write]
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    before = api.all_items()
    table = api.settings.products_table_name if products_table_only else None
    with failing(api.client, operation, conflict, table=table) as attempts:
        response = api.patch(EVENT_PRODUCT_ID, body, key, context=FakeContext(SHORT_CONTEXT_MS))
    assert response.status == 409, response.body
    assert response.json["code"] == "concurrent_update", "contention, not not_found"
    assert response.header("Retry-After") == "1"
    assert len(attempts) > 1, "contention is retried"
    assert api.all_items() == before
    assert api.idempotency_records() == [], "contention is never kept for replay"
    retry = api.patch(EVENT_PRODUCT_ID, body, key)
    assert retry.status == 200 and retry.json["version"] == 2
    assert {name: retry.json[name] for name in body} == body


@pytest.mark.parametrize("backend", ["dynamodb_local"], indirect=True)
@pytest.mark.dynamodb_local
def test_a_short_transaction_conflict_is_retried_to_success(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    conflict = lambda: error_response(400, "TransactionConflictException")  # noqa: E731
    with failing(api.client, "UpdateItem", conflict, table=api.settings.products_table_name, times=2) as attempts:
        response = api.patch(EVENT_PRODUCT_ID, {"name": "x"})
    assert len(attempts) == 2
    assert response.status == 200 and response.json["version"] == 2


@pytest.mark.parametrize("backend", ["dynamodb_local"], indirect=True)
@pytest.mark.dynamodb_local
@pytest.mark.parametrize("code", ["AccessDeniedException", "ResourceNotFoundException"])
def test_an_error_with_no_meaning_is_500_and_never_kept(api: Api, code: str) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    failure: Any = lambda: error_response(400, code)  # noqa: E731
    with failing(api.client, "UpdateItem", failure, table=api.settings.products_table_name):
        response = api.patch(EVENT_PRODUCT_ID, {"name": "x"}, key)
    assert response.status == 500, response.body
    assert response.json["code"] == "internal_error"
    assert code not in response.body
    assert api.idempotency_records() == []
    assert api.patch(EVENT_PRODUCT_ID, {"name": "x"}, key).status == 200


@pytest.mark.parametrize("backend", ["dynamodb_local"], indirect=True)
@pytest.mark.dynamodb_local
def test_a_throttled_transaction_is_503(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")

    def throttled() -> AWSResponse:
        return conflict_response(reason="ThrottlingError")

    with failing(api.client, "TransactWriteItems", throttled):
        response = api.patch(EVENT_PRODUCT_ID, {"model": "NEW"})
    assert response.status == 503, response.body
    assert response.header("Retry-After") == "1"


# --- 3 and 4. idempotency exactly once while a record lives, and a new request after ---------------------------------


@pytest.mark.parametrize("if_match", [None, '"1"'])
@pytest.mark.parametrize("body", [{"name": "once"}, {"model": "NEW"}])
def test_a_re_run_after_a_lost_record_answers_its_own_write(
    api: Api, body: dict[str, Any], if_match: str | None
) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    if if_match:
        headers["If-Match"] = if_match
    first = api.patch(EVENT_PRODUCT_ID, body, headers)
    assert first.status == 200, first.body
    _delete_idempotency_records(api)  # the crash after the write: its record is gone
    rerun = api.patch(EVENT_PRODUCT_ID, body, headers)
    assert rerun.status == 200, rerun.body
    assert rerun.json == first.json
    assert api.stored_item(EVENT_PRODUCT_ID)["version"] == 2  # type: ignore[index]


@pytest.mark.parametrize("first_body", [{"name": "first"}, {"model": "FIRST"}])
@pytest.mark.parametrize("second_body", [{"name": "second"}, {"model": "SECOND"}])
def test_a_key_reused_after_its_record_expired_is_a_new_request(
    api: Api, first_body: dict[str, Any], second_body: dict[str, Any]
) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    assert api.patch(EVENT_PRODUCT_ID, first_body, headers).status == 200
    _delete_idempotency_records(api)  # expired: DynamoDB's TTL took it
    second = api.patch(EVENT_PRODUCT_ID, second_body, headers)
    assert second.status == 200, second.body
    assert second.json["version"] == 3
    stored = api.stored_item(EVENT_PRODUCT_ID)
    assert stored is not None
    for field, value in second_body.items():
        assert stored[field] == value, "the second request was applied, not taken for the first"


@pytest.mark.parametrize("body", [{"name": "once"}, {"model": "NEW"}])
def test_a_re_run_after_a_lost_record_and_a_later_write_is_not_applied_again(api: Api, body: dict[str, Any]) -> None:
    """Found by the history checker: the product remembered only the latest write, so a re-run after another write
    applied a second time."""
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    headers = {"Idempotency-Key": str(uuid.uuid4()), "If-Match": '"1"'}
    first = api.patch(EVENT_PRODUCT_ID, body, headers)
    assert first.status == 200, first.body
    _delete_idempotency_records(api)
    assert api.patch(EVENT_PRODUCT_ID, {"status": "archived"}).status == 200  # version 3, someone else's
    rerun = api.patch(EVENT_PRODUCT_ID, body, headers)
    assert rerun.status == 200, rerun.body
    assert api.stored_item(EVENT_PRODUCT_ID)["version"] == 3, "the re-run applied nothing"  # type: ignore[index]
    if "model" in body:
        # a rename's own version is kept on the product until the next rename: the answer is exactly it
        assert rerun.json == first.json
    else:
        # a field update's version is not kept: the answer is the product as it is now, its write in it
        assert (rerun.json["version"], rerun.json["name"], rerun.json["status"]) == (3, "once", "archived")


def test_a_product_remembers_its_latest_keyed_writes_only(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The write ids a product keeps are bounded: pruned to REMEMBERED_WRITES once there are PRUNE_AT, by an update
    that makes no version (no history entry), and the latest ones still recognise their re-runs."""
    monkeypatch.setattr(write_memory, "REMEMBERED_WRITES", 2)
    monkeypatch.setattr(write_memory, "PRUNE_AT", 4)
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    sent = []
    for number in range(4):
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        assert api.patch(EVENT_PRODUCT_ID, {"name": f"write {number}"}, headers).status == 200
        sent.append(headers)
    stored = api.stored_item(EVENT_PRODUCT_ID)
    assert stored is not None and stored["version"] == 5
    assert len([name for name in stored if name.startswith(write_memory.WRITE_PREFIX)]) == 2
    _delete_idempotency_records(api)
    rerun = api.patch(EVENT_PRODUCT_ID, {"name": "write 2"}, sent[2])
    assert rerun.status == 200 and rerun.json["version"] == 5, "a remembered write is not applied again"
