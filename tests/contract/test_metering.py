"""Metering through the products table's real stream, and GET /api/v1/usage, on moto and DynamoDB Local: exactly the
applied writes count (replays, `{}` and refusals do not), once each, whatever the redeliveries.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from changes_support import Changes
from limits_support import limited_api
from products_api.core.settings import UsageSettings, read_settings
from products_api.limits.store import LimitsStore, month_of
from products_api.limits.usage import UsageRuntime
from support import (
    EVENT_PRODUCT_ID,
    EVENT_SCOPES,
    EVENT_TOKEN,
    Api,
    ApiResponse,
    function_module,
    invoke_handler,
    load_event,
)

READ_ONLY_TOKEN = "tp_read_only_token_for_usage_0000000000"


def usage_get(
    monkeypatch: pytest.MonkeyPatch, api: Api, query: dict[str, str] | None = None, token: str = EVENT_TOKEN
) -> ApiResponse:
    runtime = UsageRuntime.build(read_settings(UsageSettings), api.client)
    module = function_module("get_usage")
    monkeypatch.setattr(module, "get_usage_runtime", lambda: runtime)
    event = copy.deepcopy(load_event("get_usage"))
    event["headers"]["authorization"] = f"Bearer {token}"
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    if query:
        event["queryStringParameters"] = query
    return invoke_handler(module, event)


@pytest.fixture
def metered(
    table_env: dict[str, str], boto3_session: boto3.Session, monkeypatch: pytest.MonkeyPatch, changes: Changes
) -> Api:
    api = limited_api(monkeypatch, boto3_session, 4)
    _, result = changes.deliver()  # the product's creation: made outside the API, not metered
    assert result == {"batchItemFailures": []}
    return api


def test_usage_counts_exactly_the_applied_writes(
    metered: Api, changes: Changes, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert metered.patch(EVENT_PRODUCT_ID, {"name": "one"}, key).status == 200
    replay = metered.patch(EVENT_PRODUCT_ID, {"name": "one"}, key)
    assert replay.header("Idempotent-Replayed") == "true"
    assert metered.patch(EVENT_PRODUCT_ID, {}).status == 200
    assert metered.patch(EVENT_PRODUCT_ID, {"name": "two"}).status == 200
    assert metered.patch(EVENT_PRODUCT_ID, {"name": "x"}, {"If-Match": '"1"'}).status == 412
    # the rate counts requests that may write: the replay and the 412 took places, so the fifth is refused
    assert metered.patch(EVENT_PRODUCT_ID, {"name": "three"}).json["code"] == "rate_limited"

    records, result = changes.deliver()
    assert result == {"batchItemFailures": []}
    # redelivered, twice: nothing more counted
    changes.invoke(records)
    changes.invoke(records)

    usage = usage_get(monkeypatch, metered)
    assert usage.status == 200
    assert usage.header("Cache-Control") == "no-store"
    assert usage.json == {
        "month": month_of(datetime.now(UTC)),
        "writes": 2,
        "quota": None,
        "rate": {"limit": 4, "windowSeconds": 60},
    }


def test_usage_shows_the_plan_and_needs_read_scope(
    metered: Api, table_names: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    LimitsStore(metered.client, table_names["LimitsTable"]).set_plan(
        "ACME", rate=50, quota=1000, clear_rate=False, clear_quota=False
    )
    metered.add_credential(READ_ONLY_TOKEN, scopes=("products:read",))
    usage = usage_get(monkeypatch, metered, token=READ_ONLY_TOKEN)
    assert (usage.status, usage.json["quota"], usage.json["rate"]) == (200, 1000, {"limit": 50, "windowSeconds": 60})
    assert usage.json["writes"] == 0
    metered.add_credential("tp_write_only_token_for_usage_000000000", scopes=("products:write",))
    refused = usage_get(monkeypatch, metered, token="tp_write_only_token_for_usage_000000000")
    assert (refused.status, refused.json["code"]) == (403, "insufficient_scope")
    unknown = usage_get(monkeypatch, metered, query={"month": "2026-01"})
    assert (unknown.status, unknown.json["code"]) == (400, "validation_error")


def test_the_month_count_feeds_the_quota(
    metered: Api, changes: Changes, table_names: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    LimitsStore(metered.client, table_names["LimitsTable"]).set_plan(
        "ACME", rate=None, quota=2, clear_rate=False, clear_quota=False
    )
    assert metered.patch(EVENT_PRODUCT_ID, {"name": "one"}).status == 200
    assert metered.patch(EVENT_PRODUCT_ID, {"name": "two"}).status == 200
    # the stream has not counted them yet: the quota lags by the stream's delay
    assert metered.patch(EVENT_PRODUCT_ID, {"name": "three"}).status == 200
    changes.deliver()
    refused = metered.patch(EVENT_PRODUCT_ID, {"name": "four"})
    assert (refused.status, refused.json["code"]) == (429, "quota_exceeded")
    assert usage_get(monkeypatch, metered).json["writes"] == 3


def test_the_shipped_event_answers(metered: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = UsageRuntime.build(read_settings(UsageSettings), metered.client)
    module = function_module("get_usage")
    monkeypatch.setattr(module, "get_usage_runtime", lambda: runtime)
    event: dict[str, Any] = load_event("get_usage")
    assert event["headers"]["authorization"] == f"Bearer {EVENT_TOKEN}"
    assert EVENT_SCOPES  # the event's token holds products:read
    assert invoke_handler(module, event).status == 200
