"""The API reference (docs/api.md), PATCH: Idempotency-Key: replays, kept and unkept outcomes, in-flight requests
and expiry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from support import EVENT_TOKEN, Api, FakeContext, assert_error

OTHER_TOKEN = "tp_other_company_token_000000000000000000"
READ_ONLY_TOKEN = "tp_read_only_token_0000000000000000000000"


# --- idempotency ----------------------------------------------------------------------------------


def test_replay_returns_the_kept_outcome_and_writes_nothing(api: Api, product: Any) -> None:
    key = str(uuid.uuid4())
    first = api.patch(product.id, {"name": "Once", "status": "archived"}, {"Idempotency-Key": key})
    assert first.status == 200 and first.header("Idempotent-Replayed") is None
    stored = api.stored_item(product.id)
    replay = api.patch(product.id, '{ "status" : "archived",\n "name": "Once" }', {"idempotency-key": key})
    assert replay.status == 200
    assert replay.header("Idempotent-Replayed") == "true"
    assert replay.body == first.body
    assert replay.header("ETag") == first.header("ETag") == '"2"'
    assert api.stored_item(product.id) == stored


def test_a_replay_runs_no_write_and_builds_none(api: Api, product: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A replay answers from its record: the update's command (its write id, its deadline) is never even built."""
    from products_api.products import service
    from products_api.products.rules import UpdateCommand

    built: list[Any] = []
    real_command = UpdateCommand

    def counting_command(**fields: Any) -> Any:
        built.append(fields["write_id"])
        return real_command(**fields)

    monkeypatch.setattr(service, "UpdateCommand", counting_command)
    key = str(uuid.uuid4())
    first = api.patch(product.id, {"name": "Built once"}, {"Idempotency-Key": key})
    assert first.status == 200 and len(built) == 1
    replay = api.patch(product.id, {"name": "Built once"}, {"Idempotency-Key": key})
    assert replay.header("Idempotent-Replayed") == "true" and replay.body == first.body
    assert len(built) == 1


def test_idempotency_key_header_in_any_case(api: Api, product: Any) -> None:
    key = str(uuid.uuid4())
    first = api.patch(product.id, {"name": "x"}, {"IDEMPOTENCY-KEY": key.upper()})
    replay = api.patch(product.id, {"name": "x"}, {"idempotency-key": key})
    assert replay.header("Idempotent-Replayed") == "true"
    assert replay.body == first.body


def test_equal_bodies_match_whatever_the_number_spelling(api: Api, product: Any) -> None:
    key = str(uuid.uuid4())
    first = api.patch(product.id, '{"defaultFieldValues": {"v": 1.0}}', {"Idempotency-Key": key})
    replay = api.patch(product.id, '{"defaultFieldValues": {"v": 1}}', {"Idempotency-Key": key})
    assert first.status == 200 and replay.header("Idempotent-Replayed") == "true"


@pytest.mark.parametrize(
    "second",
    [
        {"body": {"name": "Different"}},
        {"product": "other"},
    ],
)
def test_same_key_with_another_body_or_product_is_refused(api: Api, product: Any, second: dict[str, Any]) -> None:
    other = api.add_product(model="SECOND")
    key = str(uuid.uuid4())
    assert api.patch(product.id, {"name": "First"}, {"Idempotency-Key": key}).status == 200
    target = other.id if second.get("product") else product.id
    before = api.stored_item(target)
    response = api.patch(target, second.get("body", {"name": "First"}), {"Idempotency-Key": key})
    assert_error(response, 422, "idempotency_key_reused")
    assert api.stored_item(target) == before


def test_keys_are_scoped_to_the_company(api: Api, product: Any) -> None:
    api.add_credential(OTHER_TOKEN, company_id="GLOBEX")
    theirs = api.add_product(company_id="GLOBEX", model="G-1")
    key = str(uuid.uuid4())
    assert api.patch(product.id, {"name": "ours"}, {"Idempotency-Key": key}).status == 200
    response = api.patch(theirs.id, {"name": "theirs"}, {"Idempotency-Key": key}, token=OTHER_TOKEN)
    assert response.status == 200 and response.header("Idempotent-Replayed") is None
    assert response.json["name"] == "theirs"


@pytest.mark.parametrize("kept", ["not_found", "duplicate_model", "precondition_failed"])
def test_error_outcomes_that_are_kept(api: Api, product: Any, kept: str) -> None:
    taken = api.add_product(model="TAKEN")
    target, body, headers = {
        "not_found": ("cccccccccccccccccccccccc", {"name": "x"}, {}),
        "duplicate_model": (product.id, {"model": "TAKEN"}, {}),
        "precondition_failed": (product.id, {"name": "x"}, {"If-Match": '"9"'}),
    }[kept]
    key = str(uuid.uuid4())
    first = api.patch(target, body, {**headers, "Idempotency-Key": key})
    assert first.json["code"] == kept
    if kept == "precondition_failed":
        api.patch(product.id, {"name": "moves to v2"})
        headers = {"If-Match": '"2"'}  # would now match: the kept outcome still wins
    if kept == "duplicate_model":
        api.patch(taken.id, {"model": "FREED"})  # the model is free now: the kept outcome still wins
    replay = api.patch(target, body, {**headers, "Idempotency-Key": key})
    assert replay.status == first.status
    assert replay.body == first.body
    assert replay.header("Idempotent-Replayed") == "true"


@pytest.mark.parametrize(
    ("body", "headers", "token"),
    [
        ("not json", {}, EVENT_TOKEN),
        ({"name": ""}, {}, EVENT_TOKEN),
        ({"name": "x"}, {"content-type": "text/plain"}, EVENT_TOKEN),
        ({"name": "x"}, {}, "tp_unknown_token_00000000000000000000000"),
    ],
)
def test_rejected_requests_are_not_kept(api: Api, product: Any, body: Any, headers: dict[str, str], token: str) -> None:
    key = str(uuid.uuid4())
    assert api.patch(product.id, body, {**headers, "Idempotency-Key": key}, token=token).status in {400, 401, 415}
    assert api.idempotency_records() == []
    response = api.patch(product.id, {"name": "fixed"}, {"Idempotency-Key": key})
    assert response.status == 200 and response.header("Idempotent-Replayed") is None


class _Crash(BaseException):
    """Stands for the Lambda runtime killing the function mid-request (not an Exception Powertools catches)."""


def test_in_flight_request_answers_409_then_expires_with_the_function_time_limit(
    api: Api, product: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = str(uuid.uuid4())
    updater = api.runtime.patch_service._updater

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise _Crash

    with monkeypatch.context() as patched:
        patched.setattr(updater, "update", crash)
        with pytest.raises(_Crash):
            api.patch(product.id, {"name": "x"}, {"Idempotency-Key": key}, context=FakeContext(remaining_ms=60_000))
    in_flight = api.patch(product.id, {"name": "x"}, {"Idempotency-Key": key})
    assert_error(in_flight, 409, "idempotency_in_progress")
    assert in_flight.header("Retry-After") == "1"
    assert api.stored_item(product.id)["version"] == 1  # type: ignore[index]

    # A request whose function time ran out leaves a lock that is already expired: the retry runs.
    other_key = str(uuid.uuid4())
    with monkeypatch.context() as patched:
        patched.setattr(updater, "update", crash)
        with pytest.raises(_Crash):
            api.patch(product.id, {"name": "y"}, {"Idempotency-Key": other_key}, context=FakeContext(remaining_ms=-1))
    retry = api.patch(product.id, {"name": "y"}, {"Idempotency-Key": other_key})
    assert retry.status == 200, retry.body
    assert retry.header("Idempotent-Replayed") is None
    assert retry.json["version"] == 2


def test_idempotency_record_expires_after_24_hours(api: Api, product: Any) -> None:
    api.patch(product.id, {"name": "x"}, {"Idempotency-Key": str(uuid.uuid4())})
    (record,) = api.idempotency_records()
    lifetime = int(record["expiration"]) - datetime.now(UTC).timestamp()
    assert 24 * 3600 - 60 < lifetime <= 24 * 3600
    assert record["id"].startswith("products-api#patch-product#")
