"""A PATCH is worth exactly the DynamoDB work it must do: calls per request kind, credential already cached."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from limits_support import limited_api
from products_api_local.bench.warm import counting
from support import EVENT_PRODUCT_ID, Api


@pytest.fixture
def warm_api(api: Api) -> Api:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    assert api.patch(EVENT_PRODUCT_ID, {}).status == 200  # caches the credential, as a warm container has it
    return api


REQUEST_KINDS = [
    ({"name": "x", "imageUrls": []}, ["UpdateItem"]),
    # uncontended, the transaction also requires the version read, so its answer is known without a read-back
    # (tests/contract/test_races.py has the contended case: the transaction again, then the read-back)
    ({"model": "NEW", "name": "x"}, ["GetItem", "TransactWriteItems"]),
    ({"model": "old"}, ["GetItem", "UpdateItem"]),
    ({}, ["GetItem"]),
]


@pytest.mark.parametrize(("body", "expected"), REQUEST_KINDS)
def test_calls_per_request_kind(warm_api: Api, body: dict[str, Any], expected: list[str]) -> None:
    with counting(warm_api.client) as calls:
        assert warm_api.patch(EVENT_PRODUCT_ID, body).status == 200
    assert calls == expected


@pytest.mark.parametrize(("body", "expected"), REQUEST_KINDS)
def test_the_write_rate_adds_exactly_its_one_call(
    table_env: dict[str, str],
    boto3_session: boto3.Session,
    monkeypatch: pytest.MonkeyPatch,
    body: dict[str, Any],
    expected: list[str],
) -> None:
    limited = limited_api(monkeypatch, boto3_session, 100)
    assert limited.patch(EVENT_PRODUCT_ID, {}).status == 200  # caches the credential
    with counting(limited.client) as calls:
        assert limited.patch(EVENT_PRODUCT_ID, body).status == 200
    # the counter's conditional UpdateItem first; `{}` writes nothing and is not limited
    assert calls == (["UpdateItem", *expected] if body else expected)


def test_first_request_with_a_key_then_its_replay(warm_api: Api) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    with counting(warm_api.client) as first:
        assert warm_api.patch(EVENT_PRODUCT_ID, {"name": "x"}, key).status == 200
    # in-progress record, the product write, the completed record
    assert first == ["PutItem", "UpdateItem", "UpdateItem"]
    with counting(warm_api.client) as replay:
        assert warm_api.patch(EVENT_PRODUCT_ID, {"name": "x"}, key).header("Idempotent-Replayed") == "true"
    # the failed conditional put returns the record itself (ALL_OLD): no GetItem
    assert replay == ["PutItem"]


def test_failed_conditions_explain_themselves_without_a_read(warm_api: Api) -> None:
    with counting(warm_api.client) as stale:
        assert warm_api.patch(EVENT_PRODUCT_ID, {"name": "x"}, {"If-Match": '"7"'}).status == 412
    with counting(warm_api.client) as missing:
        assert warm_api.patch("dddddddddddddddddddddddd", {"name": "x"}).status == 404
    assert stale == missing == ["UpdateItem"]


def test_refused_requests_cost_nothing(warm_api: Api) -> None:
    with counting(warm_api.client) as calls:
        assert warm_api.patch(EVENT_PRODUCT_ID, {"name": ""}).status == 400
        assert warm_api.patch("nope", {"name": "x"}).status == 400
        assert warm_api.patch(EVENT_PRODUCT_ID, "[]").status == 400
    assert calls == []


def test_credential_look_up_is_cached(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    with counting(api.client) as cold:
        api.patch(EVENT_PRODUCT_ID, {"name": "x"})
    with counting(api.client) as warm:
        api.patch(EVENT_PRODUCT_ID, {"name": "y"})
    assert cold == ["GetItem", "UpdateItem"]
    assert warm == ["UpdateItem"]
