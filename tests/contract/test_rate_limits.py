"""The per-company write rate and monthly quota (products_api.limits), through the update function's handler, on
moto and DynamoDB Local: 429s with their fields, nothing written or kept when refused, fail open, one call.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from limits_support import limited_api
from products_api.limits.limiter import RATE_LIMITER_FAILED, WriteLimiter
from products_api.limits.store import LimitsStore, month_of
from products_api_local.bench.warm import counting
from support import EVENT_PRODUCT_ID, EVENT_SCOPES, Api

RATE_LIMIT = re.compile(r'^"writes";r=(\d+);t=(\d+)$')


@pytest.fixture
def api3(table_env: dict[str, str], boto3_session: boto3.Session, monkeypatch: pytest.MonkeyPatch) -> Api:
    """The update function with a default rate of 3 writes a minute."""
    return limited_api(monkeypatch, boto3_session, 3)


def remaining(response: Any) -> int:
    match = RATE_LIMIT.fullmatch(response.header("RateLimit") or "")
    assert match is not None, response.headers
    assert 1 <= int(match.group(2)) <= 60
    return int(match.group(1))


def test_the_rate_is_counted_down_then_refused_with_its_fields(api3: Api) -> None:
    answers = [api3.patch(EVENT_PRODUCT_ID, {"name": f"n{index}"}) for index in range(3)]
    assert [answer.status for answer in answers] == [200, 200, 200]
    assert [remaining(answer) for answer in answers] == [2, 1, 0]
    assert {answer.header("RateLimit-Policy") for answer in answers} == {'"writes";q=3;w=60'}

    refused = api3.patch(EVENT_PRODUCT_ID, {"name": "too many"})
    assert refused.status == 429
    assert refused.json["code"] == "rate_limited"
    assert remaining(refused) == 0
    retry_after = int(refused.header("Retry-After") or "0")
    assert 1 <= retry_after <= 60
    assert refused.header("RateLimit-Policy") == '"writes";q=3;w=60'
    # nothing written: the third write's version and name stand
    stored = api3.stored_item(EVENT_PRODUCT_ID)
    assert stored is not None
    assert (stored["version"], stored["name"]) == (4, "n2")


def test_a_refused_request_with_a_key_is_not_kept(api3: Api) -> None:
    for index in range(3):
        assert api3.patch(EVENT_PRODUCT_ID, {"name": f"n{index}"}).status == 200
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert api3.patch(EVENT_PRODUCT_ID, {"name": "later"}, key).status == 429
    assert api3.idempotency_records() == []


def test_write_errors_after_the_limiter_carry_ratelimit(api3: Api) -> None:
    missing = api3.patch("dddddddddddddddddddddddd", {"name": "x"})
    assert missing.status == 404
    assert remaining(missing) == 2
    # refused before the limiter (a malformed body): not counted, no fields
    invalid = api3.patch(EVENT_PRODUCT_ID, {"name": ""})
    assert invalid.status == 400
    assert invalid.header("RateLimit") is None
    assert remaining(api3.patch(EVENT_PRODUCT_ID, {"name": "x"})) == 1


def test_an_empty_patch_is_neither_limited_nor_counted(api3: Api) -> None:
    for index in range(3):
        assert api3.patch(EVENT_PRODUCT_ID, {"name": f"n{index}"}).status == 200
    with counting(api3.client) as calls:
        empty = api3.patch(EVENT_PRODUCT_ID, {})
    assert empty.status == 200
    assert empty.header("RateLimit") is None
    assert calls == ["GetItem"]


def test_the_limiter_costs_one_call_per_write(api3: Api) -> None:
    assert api3.patch(EVENT_PRODUCT_ID, {"name": "warm"}).status == 200  # caches the credential
    with counting(api3.client) as calls:
        assert api3.patch(EVENT_PRODUCT_ID, {"name": "x"}).status == 200
    # the counter's conditional UpdateItem, then the product's
    assert calls == ["UpdateItem", "UpdateItem"]


def test_rate_zero_makes_no_call_and_sends_no_fields(
    table_env: dict[str, str], boto3_session: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = limited_api(monkeypatch, boto3_session, 0)
    assert api.patch(EVENT_PRODUCT_ID, {"name": "warm"}).status == 200
    with counting(api.client) as calls:
        answer = api.patch(EVENT_PRODUCT_ID, {"name": "x"})
    assert answer.status == 200
    assert answer.header("RateLimit") is None
    assert calls == ["UpdateItem"]


def test_a_company_plan_overrides_the_default_rate(api3: Api, table_names: dict[str, str]) -> None:
    limits = LimitsStore(api3.client, table_names["LimitsTable"])
    limits.set_plan("ACME", rate=1, quota=None, clear_rate=False, clear_quota=False)
    first = api3.patch(EVENT_PRODUCT_ID, {"name": "one"})
    assert (first.status, remaining(first), first.header("RateLimit-Policy")) == (200, 0, '"writes";q=1;w=60')
    assert api3.patch(EVENT_PRODUCT_ID, {"name": "two"}).json["code"] == "rate_limited"
    # another company keeps the default
    api3.add_credential("tp_other_company_token_000000000000000", company_id="OTHER", scopes=EVENT_SCOPES)
    api3.add_product("eeeeeeeeeeeeeeeeeeeeeeee", company_id="OTHER")
    other = api3.patch("eeeeeeeeeeeeeeeeeeeeeeee", {"name": "x"}, token="tp_other_company_token_000000000000000")
    assert (other.status, remaining(other)) == (200, 2)
    # a company rate of 0 is unlimited
    limits.set_plan("ACME", rate=0, quota=None, clear_rate=False, clear_quota=False)
    unlimited = api3.patch(EVENT_PRODUCT_ID, {"name": "free"})
    assert (unlimited.status, unlimited.header("RateLimit")) == (200, None)


def test_the_quota_refuses_once_the_month_is_used_up(api3: Api, table_names: dict[str, str]) -> None:
    limits = LimitsStore(api3.client, table_names["LimitsTable"])
    limits.set_plan("ACME", rate=None, quota=2, clear_rate=False, clear_quota=False)
    month = month_of(datetime.now(UTC))
    now = datetime.now(UTC).timestamp()
    assert limits.meter("ACME", EVENT_PRODUCT_ID, 2, month, now)
    assert api3.patch(EVENT_PRODUCT_ID, {"name": "below"}).status == 200
    assert limits.meter("ACME", EVENT_PRODUCT_ID, 3, month, now)
    refused = api3.patch(EVENT_PRODUCT_ID, {"name": "over"})
    assert refused.status == 429
    assert refused.json["code"] == "quota_exceeded"
    # until the 1st of next month, at most 31 days away
    assert 1 <= int(refused.header("Retry-After") or "0") <= 31 * 24 * 3600
    # the rate had room: one write admitted this window, the refused one not counted
    assert remaining(refused) == 2
    # a quota of 0 allows nothing; clearing it allows again
    limits.set_plan("ACME", rate=None, quota=0, clear_rate=False, clear_quota=False)
    assert api3.patch(EVENT_PRODUCT_ID, {"name": "zero"}).json["code"] == "quota_exceeded"
    limits.set_plan("ACME", rate=None, quota=None, clear_rate=False, clear_quota=True)
    assert api3.patch(EVENT_PRODUCT_ID, {"name": "cleared"}).status == 200


def test_the_limiter_fails_open_and_counts_it(
    table_env: dict[str, str], boto3_session: boto3.Session, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    # a table that does not exist: every counter write fails (not on its condition)
    api = limited_api(monkeypatch, boto3_session, 3, LIMITS_TABLE_NAME="no-such-limits-table")
    answers = [api.patch(EVENT_PRODUCT_ID, {"name": f"n{index}"}) for index in range(5)]
    assert [answer.status for answer in answers] == [200] * 5
    assert all(answer.header("RateLimit") is None for answer in answers)
    assert RATE_LIMITER_FAILED in capsys.readouterr().out


def test_stale_windows_are_removed_by_the_next_write(api3: Api, table_names: dict[str, str]) -> None:
    store = LimitsStore(api3.client, table_names["LimitsTable"])
    now = [1_800_000_000.0]
    metrics: list[str] = []
    limiter = WriteLimiter(store, 2, metrics.append, clock=lambda: now[0])
    assert limiter.admit("ACME") is not None
    now[0] += 60
    second = limiter.admit("ACME")
    assert second is not None
    assert second.remaining == 1  # a new window
    now[0] += 60
    limiter.admit("ACME")
    item = api3.client.get_item(TableName=table_names["LimitsTable"], Key={"pk": {"S": "company#ACME"}})["Item"]
    assert sorted(name for name in item if name.startswith("w#")) == [f"w#{1_800_000_000 + 60}", f"w#{1_800_000_120}"]
    assert metrics == []
