"""A rename reads, then writes on condition the product still holds the model it read: what happens when something
moves in between."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from products_api.errors import ConcurrentUpdate
from products_api.products.models import Product
from products_api.products.models import utc_now as _now
from products_api.products.preconditions import ANY_VERSION
from products_api.products.store import ProductStore
from products_api_local.bench.warm import counting
from support import EVENT_PRODUCT_ID, EVENT_TOKEN, Api, product_event


def interleave(api: Api, monkeypatch: pytest.MonkeyPatch, between: Callable[[int], None]) -> list[int]:
    """Run `between(n)` right after the rename's n-th read, as a concurrent request would."""
    store: ProductStore = api.runtime.patch_service._updater._store
    original_get = store.get_with_write_id
    reads: list[int] = []

    def get_then_interfere(company_id: str, product_id: str) -> tuple[Product, dict[str, Any]] | None:
        found = original_get(company_id, product_id)
        reads.append(len(reads) + 1)
        between(len(reads))
        return found

    monkeypatch.setattr(store, "get_with_write_id", get_then_interfere)
    return reads


def test_rename_applies_when_another_field_changes_between_read_and_write(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")

    def concurrent_name_change(read: int) -> None:
        if read == 1:
            assert (
                api.products.update_fields(
                    "ACME", EVENT_PRODUCT_ID, {"name": "theirs"}, ANY_VERSION, _now(), uuid.uuid4().hex
                ).version
                == 2
            )

    reads = interleave(api, monkeypatch, concurrent_name_change)
    with counting(api.client) as calls:
        response = api.patch(EVENT_PRODUCT_ID, {"model": "NEW"})
    assert response.status == 200, response.body
    assert reads == [1], "a change of another field does not make the rename read again"
    # the first transaction required the version read and was cancelled with the product as it now is; the second
    # requires that version, and its answer (the name changed in between is in it) is known without a read-back
    # (the credential's read first; the interfering UpdateItem shares the client)
    assert calls == ["GetItem", "GetItem", "UpdateItem", "TransactWriteItems", "TransactWriteItems"]
    body = response.json
    assert (body["model"], body["name"], body["version"]) == ("NEW", "theirs", 3)
    assert api.model_locks() == {"MODEL#new": EVENT_PRODUCT_ID}


def test_rename_outrun_twice_by_other_fields_requires_only_the_model_and_reads_its_answer_back(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    store: ProductStore = api.runtime.patch_service._updater._store
    original = store._rename_transaction
    tries: list[int | None] = []

    def interfered(*args: Any) -> Any:
        tries.append(args[-1])  # the version the try requires (None: only the model)
        if len(tries) <= 2:
            # another field written right before each of the first two tries
            store.update_fields(
                "ACME", EVENT_PRODUCT_ID, {"name": f"theirs {len(tries)}"}, ANY_VERSION, _now(), uuid.uuid4().hex
            )
        return original(*args)

    monkeypatch.setattr(store, "_rename_transaction", interfered)
    with counting(api.client) as calls:
        response = api.patch(EVENT_PRODUCT_ID, {"model": "NEW"})
    assert response.status == 200, response.body
    assert tries == [1, 2, None]
    assert calls[-2:] == ["TransactWriteItems", "GetItem"]  # the third try, then its answer read back
    body = response.json
    assert (body["model"], body["name"], body["version"]) == ("NEW", "theirs 2", 4)
    assert api.model_locks() == {"MODEL#new": EVENT_PRODUCT_ID}


def test_model_claimed_by_another_product_in_between_is_a_conflict(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    other = api.add_product(model="SOMETHING")

    def other_claims_the_model(read: int) -> None:
        if read == 1:
            current = api.products.get("ACME", other.id)
            assert current is not None
            assert api.products.rename(current, {"model": "WANTED"}, _now(), uuid.uuid4().hex).version == 2

    interleave(api, monkeypatch, other_claims_the_model)
    response = api.patch(EVENT_PRODUCT_ID, {"model": "wanted"})
    assert response.status == 409
    assert response.json["code"] == "duplicate_model"
    assert api.model_locks() == {"MODEL#old": EVENT_PRODUCT_ID, "MODEL#wanted": other.id}
    assert api.stored_item(EVENT_PRODUCT_ID)["version"] == 1  # type: ignore[index]


def test_stale_if_match_found_by_the_rename_transaction_is_412(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")

    def concurrent_write(read: int) -> None:
        if read == 1:
            api.products.update_fields(
                "ACME", EVENT_PRODUCT_ID, {"status": "archived"}, ANY_VERSION, _now(), uuid.uuid4().hex
            )

    interleave(api, monkeypatch, concurrent_write)
    response = api.patch(EVENT_PRODUCT_ID, {"model": "NEW"}, {"If-Match": '"1"'})
    assert response.status == 412
    assert response.header("ETag") == '"2"'
    assert api.model_locks() == {"MODEL#old": EVENT_PRODUCT_ID}


def test_a_rename_is_never_aborted_by_endless_updates_of_other_fields(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (issue 10, defect 2): the transaction required the exact version read, so any concurrent write of
    another field aborted it; three such aborts answered 503."""
    api.add_product(EVENT_PRODUCT_ID, model="OLD")

    def always_interfere(read: int) -> None:
        api.products.update_fields(
            "ACME", EVENT_PRODUCT_ID, {"name": f"write {read}"}, ANY_VERSION, _now(), uuid.uuid4().hex
        )

    reads = interleave(api, monkeypatch, always_interfere)
    response = api.patch(EVENT_PRODUCT_ID, {"model": "NEW"})
    assert response.status == 200, response.body
    assert reads == [1]
    body = response.json
    # the answer is the product at the rename's own version: the name written before it, the model it set
    assert (body["model"], body["name"], body["version"]) == ("NEW", "write 1", 3)
    assert api.model_locks() == {"MODEL#new": EVENT_PRODUCT_ID}


def test_case_only_rename_racing_a_real_rename_reads_again(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")

    def concurrent_rename(read: int) -> None:
        if read == 1:
            current = api.products.get("ACME", EVENT_PRODUCT_ID)
            assert current is not None
            api.products.rename(current, {"model": "MOVED"}, _now(), uuid.uuid4().hex)

    interleave(api, monkeypatch, concurrent_rename)
    response = api.patch(EVENT_PRODUCT_ID, {"model": "old"})
    # the second read sees MOVED: "old" is a real rename now, and the OLD lock was freed by the other write
    assert response.status == 200, response.body
    assert response.json["model"] == "old"
    assert api.model_locks() == {"MODEL#old": EVENT_PRODUCT_ID}


def test_store_rename_refuses_a_read_whose_model_moved(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    stale = api.products.get("ACME", EVENT_PRODUCT_ID)
    assert stale is not None
    moved = api.products.rename(stale, {"model": "MOVED"}, _now(), uuid.uuid4().hex)
    assert moved.version == 2
    with pytest.raises(ConcurrentUpdate):
        api.products.rename(stale, {"model": "NEW"}, _now(), uuid.uuid4().hex)
    assert api.model_locks() == {"MODEL#moved": EVENT_PRODUCT_ID}


def test_store_rename_of_a_read_whose_other_fields_moved_answers_its_own_version(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    stale = api.products.get("ACME", EVENT_PRODUCT_ID)
    assert stale is not None
    api.products.update_fields("ACME", EVENT_PRODUCT_ID, {"name": "moved on"}, ANY_VERSION, _now(), uuid.uuid4().hex)
    renamed = api.products.rename(stale, {"model": "NEW"}, _now(), uuid.uuid4().hex)
    # a later write must not change what the rename answers: its own version, as the read-back copy keeps it
    api.products.update_fields("ACME", EVENT_PRODUCT_ID, {"status": "archived"}, ANY_VERSION, _now(), uuid.uuid4().hex)
    assert (renamed.version, renamed.name, renamed.model, renamed.status) == (3, "moved on", "NEW", "active")
    assert api.model_locks() == {"MODEL#new": EVENT_PRODUCT_ID}


def test_header_names_in_any_case_as_sam_local_may_send_them(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    key = str(uuid.uuid4())
    responses = []
    for spelling in ("Idempotency-Key", "IDEMPOTENCY-KEY"):
        event: dict[str, Any] = product_event(EVENT_PRODUCT_ID, {"name": "x"})
        event["headers"] = {
            "Authorization": f"Bearer {EVENT_TOKEN}",
            "Content-Type": "application/json",
            spelling: key,
        }
        responses.append(api.invoke(event))
    assert [r.status for r in responses] == [200, 200]
    assert responses[1].header("Idempotent-Replayed") == "true"
