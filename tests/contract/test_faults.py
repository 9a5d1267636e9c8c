"""Faults at each DynamoDB call of the update path: a contract status, nothing half-written, and a retry with the
same Idempotency-Key afterwards succeeds exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.retries import standard
from products_api_local.stress import faults
from support import EVENT_PRODUCT_ID, Api, FakeContext

# Faults are injected in botocore's before-send hook; moto answers requests in its own way and would still apply
# the write, so these run against DynamoDB Local only.
pytestmark = [pytest.mark.dynamodb_local, pytest.mark.parametrize("backend", ["dynamodb_local"], indirect=True)]


def response_lost(api: Api, operation: str) -> AbstractContextManager[list[int]]:
    """The first attempt of `operation` reaches DynamoDB and is applied, but its answer never comes back."""
    return faults.applied_then_failing(
        api.client,
        lambda name, _table: name == operation,
        lambda request, _name: ReadTimeoutError(endpoint_url=request.url),
    )


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep botocore's retries (their count is under test) but not their sleeps."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


FAILURES: dict[str, Callable[[], AWSResponse | Exception]] = {
    "throttled": lambda: faults.error_response(400, "ThrottlingException"),
    "provisioned-throughput": lambda: faults.error_response(400, "ProvisionedThroughputExceededException"),
    "internal-error": lambda: faults.error_response(500, "InternalServerError"),
    "service-unavailable": lambda: faults.error_response(503, "ServiceUnavailable"),
    "connection-refused": lambda: EndpointConnectionError(endpoint_url="https://dynamodb.local"),
    "read-timeout": lambda: ReadTimeoutError(endpoint_url="https://dynamodb.local"),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.parametrize(
    ("operation", "body"),
    [("UpdateItem", {"name": "x"}), ("TransactWriteItems", {"model": "NEW"}), ("GetItem", {})],
)
def test_database_failure_answers_503(api: Api, failure: str, operation: str, body: dict[str, Any]) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    # the credential look-up must not be what fails: warm the cache first
    assert api.patch(EVENT_PRODUCT_ID, {}).status == 200
    before = api.all_items()
    with faults.failing(api.client, operation, FAILURES[failure]) as attempts:
        response = api.patch(EVENT_PRODUCT_ID, body)
    assert response.status == 503, response.body
    payload = response.json
    assert payload["code"] == "unavailable"
    assert response.header("Retry-After") == "1"
    assert "Traceback" not in response.body
    assert "DynamoDB" not in response.body and "Exception" not in response.body
    assert len(attempts) == api.settings.dynamodb_max_attempts, "botocore retried before giving up"
    assert api.all_items() == before
    assert api.patch(EVENT_PRODUCT_ID, body).status == 200


def test_failure_after_the_idempotency_record_leaves_the_key_usable(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    key = str(uuid.uuid4())
    with faults.failing(api.client, "UpdateItem", FAILURES["throttled"]):
        # UpdateItem is also how Powertools completes its record; the product write fails first
        response = api.patch(EVENT_PRODUCT_ID, {"name": "retry me"}, {"Idempotency-Key": key})
    assert response.status == 503
    assert api.idempotency_records() == [], "a 5xx is not kept"
    retry = api.patch(EVENT_PRODUCT_ID, {"name": "retry me"}, {"Idempotency-Key": key})
    assert retry.status == 200
    assert retry.header("Idempotent-Replayed") is None
    assert retry.json["version"] == 2
    replay = api.patch(EVENT_PRODUCT_ID, {"name": "retry me"}, {"Idempotency-Key": key})
    assert replay.header("Idempotent-Replayed") == "true"
    assert replay.json["version"] == 2


def test_idempotency_store_down_answers_503_and_writes_nothing(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    assert api.patch(EVENT_PRODUCT_ID, {}).status == 200
    before = api.all_items()
    with faults.failing(api.client, "PutItem", FAILURES["throttled"]):
        response = api.patch(EVENT_PRODUCT_ID, {"name": "x"}, {"Idempotency-Key": str(uuid.uuid4())})
    assert response.status == 503
    assert response.header("Retry-After") == "1"
    assert api.all_items() == before


def test_lost_response_of_the_product_write_is_not_counted_twice(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    with response_lost(api, "UpdateItem") as sent:
        response = api.patch(EVENT_PRODUCT_ID, {"name": "once"})
    assert sent == [200], "the first attempt was applied"
    assert response.status == 200, response.body
    assert response.json["version"] == 2
    assert api.stored_item(EVENT_PRODUCT_ID)["version"] == 2  # type: ignore[index]


def test_lost_response_with_if_match_is_not_a_precondition_failure(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    with response_lost(api, "UpdateItem"):
        response = api.patch(EVENT_PRODUCT_ID, {"name": "once"}, {"If-Match": '"1"'})
    assert response.status == 200, response.body
    assert response.json["version"] == 2


def test_lost_response_of_the_rename_transaction(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    with response_lost(api, "TransactWriteItems") as sent:
        response = api.patch(EVENT_PRODUCT_ID, {"model": "NEW"})
    assert sent == [200]
    assert response.status == 200, response.body
    assert response.json["version"] == 2
    assert api.model_locks() == {"MODEL#new": EVENT_PRODUCT_ID}


@pytest.mark.parametrize("body", [{"name": "again"}, {"model": "NEW"}])
def test_product_write_fails_after_the_idempotency_record_then_the_retry_runs_once(
    api: Api, body: dict[str, Any]
) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    renaming = "model" in body
    operation, table = ("TransactWriteItems", None) if renaming else ("UpdateItem", api.settings.products_table_name)
    with faults.failing(api.client, operation, FAILURES["read-timeout"], table=table):
        response = api.patch(EVENT_PRODUCT_ID, body, key)
    assert response.status == 503
    assert api.stored_item(EVENT_PRODUCT_ID)["version"] == 1  # type: ignore[index]
    assert api.idempotency_records() == []
    retry = api.patch(EVENT_PRODUCT_ID, body, key)
    assert retry.status == 200
    assert retry.json["version"] == 2
    replay = api.patch(EVENT_PRODUCT_ID, body, key)
    assert replay.header("Idempotent-Replayed") == "true"
    assert api.stored_item(EVENT_PRODUCT_ID)["version"] == 2  # type: ignore[index]


def test_record_completion_fails_after_the_write_then_the_retry_does_not_write_again(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    with faults.failing(api.client, "UpdateItem", FAILURES["throttled"], table=api.settings.idempotency_table_name):
        # the function's time is already up when the record would be completed: its lock expires at once
        response = api.patch(EVENT_PRODUCT_ID, {"name": "once"}, key, context=FakeContext(remaining_ms=-1))
    assert response.status == 200, "the write happened: the client is told so"
    assert response.json["version"] == 2
    (record,) = api.idempotency_records()
    assert record["status"] == "INPROGRESS"
    retry = api.patch(EVENT_PRODUCT_ID, {"name": "once"}, key)
    assert retry.status == 200
    assert retry.json["version"] == 2, "the retry recognised its write instead of applying it again"
    assert api.stored_item(EVENT_PRODUCT_ID)["version"] == 2  # type: ignore[index]
    assert api.patch(EVENT_PRODUCT_ID, {"name": "once"}, key).header("Idempotent-Replayed") == "true"


def test_record_completion_failing_leaves_the_key_in_progress_until_the_time_limit(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    with faults.failing(api.client, "UpdateItem", FAILURES["throttled"], table=api.settings.idempotency_table_name):
        assert api.patch(EVENT_PRODUCT_ID, {"name": "once"}, key).status == 200
    in_flight = api.patch(EVENT_PRODUCT_ID, {"name": "once"}, key)
    assert in_flight.status == 409
    assert in_flight.json["code"] == "idempotency_in_progress"
    assert api.stored_item(EVENT_PRODUCT_ID)["version"] == 2  # type: ignore[index]


def test_transaction_conflict_is_retried(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    with faults.failing(api.client, "TransactWriteItems", faults.conflict_response, times=1) as attempts:
        response = api.patch(EVENT_PRODUCT_ID, {"model": "NEW"})
    assert attempts == ["TransactWriteItems"]
    assert response.status == 200, response.body
    assert response.json["version"] == 2
    assert api.model_locks() == {"MODEL#new": EVENT_PRODUCT_ID}


def test_transaction_conflict_that_persists_is_409_concurrent_update_and_writes_nothing(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    before = api.all_items()
    with faults.failing(api.client, "TransactWriteItems", faults.conflict_response):
        # half a second of retries: the function's time less the 2 s margin
        response = api.patch(EVENT_PRODUCT_ID, {"model": "NEW"}, key, context=FakeContext(remaining_ms=2500))
    assert response.status == 409
    assert response.json["code"] == "concurrent_update"
    assert response.header("Retry-After") == "1"
    assert api.all_items() == before
    retry = api.patch(EVENT_PRODUCT_ID, {"model": "NEW"}, key)
    assert retry.status == 200
    assert retry.json["version"] == 2


def test_idempotency_record_delete_failing_after_a_failed_write(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    with (
        faults.failing(api.client, "UpdateItem", FAILURES["throttled"], table=api.settings.products_table_name),
        faults.failing(api.client, "DeleteItem", FAILURES["connection-refused"]),
    ):
        response = api.patch(EVENT_PRODUCT_ID, {"name": "x"}, key, context=FakeContext(remaining_ms=-1))
    assert response.status == 503
    assert api.stored_item(EVENT_PRODUCT_ID)["version"] == 1  # type: ignore[index]
    retry = api.patch(EVENT_PRODUCT_ID, {"name": "x"}, key)
    assert retry.status == 200, retry.body
    assert retry.json["version"] == 2
