"""DynamoDB failures that survive botocore's retries answer 503 with Retry-After, and write nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.retries import standard
from support import EVENT_PRODUCT_ID, Api

# Faults are injected in botocore's before-send hook; moto answers requests in its own way and would still apply
# the write, so these run against DynamoDB Local only.
pytestmark = [pytest.mark.dynamodb_local, pytest.mark.parametrize("backend", ["dynamodb_local"], indirect=True)]


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _error_response(status: int, code: str) -> AWSResponse:
    body = f'{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"injected"}}'.encode()
    headers = HTTPHeaders()
    headers["x-amzn-requestid"] = "injected"
    return AWSResponse("https://dynamodb.local", status, headers, _Raw(body))


@contextmanager
def failing(api: Api, operation: str, make_failure: Callable[[], AWSResponse | Exception]) -> Iterator[list[str]]:
    """Every attempt of `operation` fails before it reaches DynamoDB; yields the attempts seen."""
    attempts: list[str] = []

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        if target.endswith(f".{operation}"):
            attempts.append(operation)
            failure = make_failure()
            if isinstance(failure, Exception):
                raise failure
            return failure
        return None

    events = api.client.meta.events
    # botocore's stubs type handlers as returning None; a before-send handler may answer in place of the network
    events.register_first("before-send.dynamodb", before_send, unique_id="inject-failure")  # type: ignore[arg-type]
    try:
        yield attempts
    finally:
        events.unregister("before-send.dynamodb", unique_id="inject-failure")


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep botocore's retries (their count is under test) but not their sleeps."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


FAILURES: dict[str, Callable[[], AWSResponse | Exception]] = {
    "throttled": lambda: _error_response(400, "ThrottlingException"),
    "provisioned-throughput": lambda: _error_response(400, "ProvisionedThroughputExceededException"),
    "internal-error": lambda: _error_response(500, "InternalServerError"),
    "service-unavailable": lambda: _error_response(503, "ServiceUnavailable"),
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
    with failing(api, operation, FAILURES[failure]) as attempts:
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
    with failing(api, "UpdateItem", FAILURES["throttled"]):
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
    with failing(api, "PutItem", FAILURES["throttled"]):
        response = api.patch(EVENT_PRODUCT_ID, {"name": "x"}, {"Idempotency-Key": str(uuid.uuid4())})
    assert response.status == 503
    assert response.header("Retry-After") == "1"
    assert api.all_items() == before
