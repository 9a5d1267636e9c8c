"""GET /api/v1/products/{id}/history: the caller's company reads a product's changes, newest first, page by page.

History records are seeded with HistoryStore.add, as the stream function writes them; every test runs on moto and on
DynamoDB Local.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from products_api.history.store import FieldChange
from products_api.products.models import Product
from support import EVENT_PRODUCT_ID, Api, ApiResponse, HistoryApi

OTHER_TOKEN = "tp_globex_history_token_000000000000000000"
READ_ONLY_TOKEN = "tp_acme_read_only_token_00000000000000000"
WRITE_ONLY_TOKEN = "tp_acme_write_only_token_0000000000000000"


def versions(response: ApiResponse) -> list[int]:
    assert response.status == 200, response.body
    return [item["version"] for item in response.json["items"]]


def seeded(history_api: HistoryApi, count: int, product_id: str = EVENT_PRODUCT_ID) -> Product:
    product = history_api.api.add_product(product_id)
    for version in range(1, count + 1):
        history_api.record(product, version)
    return product


def walk(history_api: HistoryApi, product_id: str, limit: int) -> tuple[list[int], int]:
    """Every version the pages hand out, following nextCursor, and how many pages that took."""
    seen: list[int] = []
    query = {"limit": str(limit)}
    pages = 0
    while True:
        response = history_api.get(product_id, query)
        pages += 1
        seen.extend(versions(response))
        cursor = response.json["nextCursor"]
        if cursor is None:
            return seen, pages
        assert pages <= 50, "the cursor never ends"
        query = {"limit": str(limit), "cursor": cursor}


# --- the answer ------------------------------------------------------------------------------------------------


def test_newest_first_with_every_field(history_api: HistoryApi) -> None:
    product = history_api.api.add_product(EVENT_PRODUCT_ID)
    first = history_api.record(product, 1, changed_by=None)
    history_api.record(product, 2)
    history_api.record(
        product,
        3,
        (
            FieldChange(field="description", before="Original description", after=None),
            FieldChange(field="imageUrls", before=["https://cdn.example.com/a.jpg"], after=[]),
        ),
        changed_by="cred_abc",
    )
    response = history_api.get(EVENT_PRODUCT_ID)
    assert response.status == 200, response.body
    assert response.header("Content-Type") == "application/json"
    assert response.header("Cache-Control") == "no-store"
    body = response.json
    assert versions(response) == [3, 2, 1]
    assert body["nextCursor"] is None
    assert body["items"][0] == {
        "version": 3,
        "changedAt": "2026-05-01T09:03:00.000Z",
        "changedBy": "cred_abc",
        "changes": [
            {"field": "description", "from": "Original description", "to": None},
            {"field": "imageUrls", "from": ["https://cdn.example.com/a.jpg"], "to": []},
        ],
    }
    assert body["items"][2]["changedBy"] is None
    assert body["items"][2]["changedAt"] == "2026-05-01T09:01:00.000Z"
    assert first.changes[0].after == body["items"][2]["changes"][0]["to"]


def test_product_id_in_any_case(history_api: HistoryApi) -> None:
    seeded(history_api, 2)
    assert versions(history_api.get(EVENT_PRODUCT_ID.upper())) == [2, 1]


def test_numbers_are_exact(history_api: HistoryApi) -> None:
    product = history_api.api.add_product(EVENT_PRODUCT_ID)
    before = {"capacityWh": Decimal("960"), "ratio": Decimal("0.1")}
    after = {"capacityWh": Decimal("12345678901234567890.123456789"), "ratio": Decimal("1E-130")}
    history_api.record(product, 2, (FieldChange(field="defaultFieldValues", before=before, after=after),))
    response = history_api.get(EVENT_PRODUCT_ID)
    (change,) = response.json["items"][0]["changes"]
    assert change["from"] == before and change["to"] == after
    # written digit for digit, never through a float
    assert "12345678901234567890.123456789" in response.body
    assert "0.1," in response.body or "0.1}" in response.body


def test_a_product_without_records_has_an_empty_history(history_api: HistoryApi) -> None:
    history_api.api.add_product(EVENT_PRODUCT_ID)
    response = history_api.get(EVENT_PRODUCT_ID)
    assert response.status == 200, response.body
    assert response.json == {"items": [], "nextCursor": None}


def test_another_products_records_stay_out(history_api: HistoryApi) -> None:
    seeded(history_api, 2)
    seeded(history_api, 5, product_id="aaaaaaaaaaaaaaaaaaaaaaaa")
    assert versions(history_api.get(EVENT_PRODUCT_ID)) == [2, 1]


# --- pages -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "limit", "pages"), [(7, 3, 3), (6, 3, 2), (6, 100, 1), (1, 1, 1), (25, 20, 2)])
def test_pages_walk_every_record_exactly_once(history_api: HistoryApi, count: int, limit: int, pages: int) -> None:
    seeded(history_api, count)
    seen, taken = walk(history_api, EVENT_PRODUCT_ID, limit)
    assert seen == list(range(count, 0, -1))
    assert taken == pages


def test_default_limit_is_20(history_api: HistoryApi) -> None:
    seeded(history_api, 21)
    first = history_api.get(EVENT_PRODUCT_ID)
    assert versions(first) == list(range(21, 1, -1))
    assert first.json["nextCursor"] is not None
    rest = history_api.get(EVENT_PRODUCT_ID, {"cursor": first.json["nextCursor"]})
    assert versions(rest) == [1]
    assert rest.json["nextCursor"] is None


def test_records_added_between_pages_do_not_disturb_the_walk(history_api: HistoryApi) -> None:
    product = seeded(history_api, 4)
    first = history_api.get(EVENT_PRODUCT_ID, {"limit": "2"})
    assert versions(first) == [4, 3]
    history_api.record(product, 5)
    rest = history_api.get(EVENT_PRODUCT_ID, {"limit": "2", "cursor": first.json["nextCursor"]})
    assert versions(rest) == [2, 1]
    assert rest.json["nextCursor"] is None


def test_the_cursor_is_opaque_text(history_api: HistoryApi) -> None:
    seeded(history_api, 3)
    cursor = history_api.get(EVENT_PRODUCT_ID, {"limit": "1"}).json["nextCursor"]
    assert isinstance(cursor, str)
    assert cursor.replace("-", "").replace("_", "").isalnum(), "URL-safe as it is"


@pytest.mark.parametrize("limit", ["1", "100", "007"])
def test_limit_bounds_are_accepted(history_api: HistoryApi, limit: str) -> None:
    seeded(history_api, 3)
    assert versions(history_api.get(EVENT_PRODUCT_ID, {"limit": limit})) == [3, 2, 1][: int(limit)]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "1.5", "abc", "", " 5", "+5", "1e2", "5,6", "99999999999"])
def test_bad_limit_is_a_validation_error(history_api: HistoryApi, limit: str) -> None:
    seeded(history_api, 1)
    response = history_api.get(EVENT_PRODUCT_ID, {"limit": limit})
    assert response.status == 400, response.body
    body = response.json
    assert body["code"] == "validation_error"
    assert body["details"] == [{"field": "limit", "message": "must be a whole number from 1 to 100"}]


def test_unknown_query_parameters_are_refused_all_at_once(history_api: HistoryApi) -> None:
    seeded(history_api, 1)
    response = history_api.get(EVENT_PRODUCT_ID, {"page_size": "5", "Limit": "5", "limit": "0"})
    assert response.status == 400, response.body
    details = {detail["field"]: detail["message"] for detail in response.json["details"]}
    assert set(details) == {"page_size", "Limit", "limit"}
    assert details["page_size"] == "is not a known query parameter (known: limit, cursor)"


def _cursor(document: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(document, separators=(",", ":")).encode()).decode().rstrip("=")


def test_garbled_and_tampered_cursors_are_refused(history_api: HistoryApi) -> None:
    seeded(history_api, 5)
    good = history_api.get(EVENT_PRODUCT_ID, {"limit": "2"}).json["nextCursor"]
    document = json.loads(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
    assert history_api.get(EVENT_PRODUCT_ID, {"cursor": good}).status == 200
    bad = [
        "",
        "not a cursor",
        "%%%",
        good[:-1],
        good + "A",
        good + "==",
        "A" * 201,
        _cursor([3]),
        _cursor({"v": 3}),
        _cursor({**document, "v": "3"}),
        _cursor({**document, "v": 3.0}),
        _cursor({**document, "v": 0}),
        _cursor({**document, "v": True}),
        _cursor({**document, "v": 10**40}),
        _cursor({**document, "x": 1}),
        # the same values in another spelling: not the text this API writes
        base64.urlsafe_b64encode(json.dumps(document).encode()).decode(),
        base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode(),
    ]
    for cursor in bad:
        response = history_api.get(EVENT_PRODUCT_ID, {"cursor": cursor})
        assert response.status == 400, (cursor, response.body)
        assert response.json["code"] == "invalid_cursor", cursor
        assert "nextCursor" in response.json["error"]
        assert "details" not in response.json


def test_another_products_cursor_is_refused(history_api: HistoryApi) -> None:
    seeded(history_api, 3)
    other = seeded(history_api, 3, product_id="bbbbbbbbbbbbbbbbbbbbbbbb")
    cursor = history_api.get(other.id, {"limit": "1"}).json["nextCursor"]
    response = history_api.get(EVENT_PRODUCT_ID, {"cursor": cursor})
    assert response.status == 400
    assert response.json["code"] == "invalid_cursor"
    assert "another product" in response.json["error"]


def test_a_crafted_cursor_only_moves_within_the_product(history_api: HistoryApi) -> None:
    # The cursor is not a secret: one written by hand for this product reads this product's own history, no more.
    seeded(history_api, 5)
    crafted = _cursor({"p": EVENT_PRODUCT_ID, "v": 3})
    assert versions(history_api.get(EVENT_PRODUCT_ID, {"cursor": crafted})) == [2, 1]


# --- who may read ------------------------------------------------------------------------------------------------


def test_another_company_cannot_read_the_history(history_api: HistoryApi) -> None:
    product = seeded(history_api, 3)
    history_api.api.add_credential(OTHER_TOKEN, company_id="GLOBEX", scopes=("products:read",))
    response = history_api.get(product.id, token=OTHER_TOKEN)
    assert response.status == 404, response.body
    assert response.json["code"] == "not_found"
    assert response.json["error"] == "Product not found"
    assert "items" not in response.json and "version" not in response.body
    # nor with a cursor for it
    cursor = history_api.get(product.id, {"limit": "1"}).json["nextCursor"]
    assert history_api.get(product.id, {"cursor": cursor}, token=OTHER_TOKEN).status == 404


def test_another_company_reads_only_its_own_product_of_the_same_id(history_api: HistoryApi) -> None:
    seeded(history_api, 3)
    history_api.api.add_credential(OTHER_TOKEN, company_id="GLOBEX", scopes=("products:read",))
    theirs = history_api.api.add_product(EVENT_PRODUCT_ID, company_id="GLOBEX")
    history_api.record(theirs, 1)
    assert versions(history_api.get(EVENT_PRODUCT_ID, token=OTHER_TOKEN)) == [1]
    assert versions(history_api.get(EVENT_PRODUCT_ID)) == [3, 2, 1]


def test_read_scope_is_enough_and_needed(history_api: HistoryApi) -> None:
    seeded(history_api, 1)
    history_api.api.add_credential(READ_ONLY_TOKEN, scopes=("products:read",))
    history_api.api.add_credential(WRITE_ONLY_TOKEN, scopes=("products:write",))
    assert versions(history_api.get(EVENT_PRODUCT_ID, token=READ_ONLY_TOKEN)) == [1]
    refused = history_api.get(EVENT_PRODUCT_ID, token=WRITE_ONLY_TOKEN)
    assert refused.status == 403
    assert refused.json["code"] == "insufficient_scope"
    assert 'scope="products:read"' in (refused.header("WWW-Authenticate") or "")
    assert "items" not in refused.json


@pytest.mark.parametrize(
    ("token", "headers", "invalid_token"),
    [
        (None, None, False),
        ("tp_unknown_token_000000000000000000000000", None, True),
        (None, {"authorization": "Basic dXNlcjpwYXNz"}, True),
    ],
    ids=["missing", "unknown", "malformed"],
)
def test_no_valid_credential_is_401(
    history_api: HistoryApi, token: str | None, headers: dict[str, str | None] | None, invalid_token: bool
) -> None:
    seeded(history_api, 1)
    response = history_api.get(EVENT_PRODUCT_ID, headers=headers, token=token)
    assert response.status == 401
    assert response.json["code"] == "unauthorized"
    challenge = response.header("WWW-Authenticate") or ""
    assert challenge.startswith("Bearer")
    assert ('error="invalid_token"' in challenge) is invalid_token


def test_revoked_and_expired_credentials_are_401(history_api: HistoryApi) -> None:
    from datetime import UTC, datetime, timedelta

    seeded(history_api, 1)
    history_api.api.add_credential("tp_revoked_token_00000000000000000000000", scopes=("products:read",), revoked=True)
    history_api.api.add_credential(
        "tp_expired_token_00000000000000000000000",
        scopes=("products:read",),
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    for token in ("tp_revoked_token_00000000000000000000000", "tp_expired_token_00000000000000000000000"):
        assert history_api.get(EVENT_PRODUCT_ID, token=token).status == 401


def test_authentication_comes_before_the_request_checks(history_api: HistoryApi) -> None:
    response = history_api.get("nope", {"limit": "0", "cursor": "x"}, token=None)
    assert response.status == 401


# --- not found and bad ids ---------------------------------------------------------------------------------------


def test_a_product_that_does_not_exist_is_404(history_api: HistoryApi) -> None:
    seeded(history_api, 2)
    response = history_api.get("cccccccccccccccccccccccc")
    assert response.status == 404
    assert response.json["code"] == "not_found"
    assert response.json["requestId"]


@pytest.mark.parametrize("product_id", ["nope", "6650a1b2c3d4e5f6a7b8c9d", "6650a1b2c3d4e5f6a7b8c9dz", "x" * 300])
def test_an_id_that_is_not_an_object_id_is_400(history_api: HistoryApi, product_id: str) -> None:
    response = history_api.get(product_id)
    assert response.status == 400
    assert response.json["code"] == "invalid_id"


def test_the_id_is_checked_before_the_query(history_api: HistoryApi) -> None:
    assert history_api.get("nope", {"limit": "0"}).json["code"] == "invalid_id"
    # and query problems before the cursor, which is looked at only once the request is well-formed
    seeded(history_api, 1)
    assert history_api.get(EVENT_PRODUCT_ID, {"limit": "0", "cursor": "x"}).json["code"] == "validation_error"


def test_history_is_read_only(history_api: HistoryApi, api: Api) -> None:
    seeded(history_api, 3)
    before = api.all_items()
    records = history_api.store.page("ACME", EVENT_PRODUCT_ID, limit=100)
    for query in ({}, {"limit": "1"}, {"limit": "0"}, {"cursor": "x"}):
        history_api.get(EVENT_PRODUCT_ID, query)
    assert api.all_items() == before
    assert history_api.store.page("ACME", EVENT_PRODUCT_ID, limit=100) == records


# --- DynamoDB work per request -----------------------------------------------------------------------------------


@contextmanager
def counting(history_api: HistoryApi) -> Iterator[list[tuple[str, str]]]:
    """The DynamoDB operations called, in order, with the table each one named (before botocore's retries, which
    a healthy backend never needs; tests/contract/test_call_counts.py counts attempts).
    """
    calls: list[tuple[str, str]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.name, params.get("TableName", "")))

    client = history_api.api.client
    client.meta.events.register("before-parameter-build.dynamodb", record, unique_id="count-history-calls")
    try:
        yield calls
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb", unique_id="count-history-calls")


def test_dynamodb_calls_per_request(history_api: HistoryApi) -> None:
    seeded(history_api, 5)
    settings = history_api.runtime.settings
    with counting(history_api) as cold:
        first = history_api.get(EVENT_PRODUCT_ID, {"limit": "2"})
    with counting(history_api) as warm:
        history_api.get(EVENT_PRODUCT_ID, {"limit": "2", "cursor": first.json["nextCursor"]})
    with counting(history_api) as missing:
        assert history_api.get("dddddddddddddddddddddddd").status == 404
    with counting(history_api) as refused:
        assert history_api.get(EVENT_PRODUCT_ID, {"limit": "0"}).status == 400
        assert history_api.get(EVENT_PRODUCT_ID, {"cursor": "x"}).status == 400
    product_read = ("GetItem", settings.products_table_name)
    history_query = ("Query", settings.history_table_name)
    assert cold == [("GetItem", settings.credentials_table_name), product_read, history_query]
    assert warm == [product_read, history_query]
    assert missing == [product_read]
    assert refused == []
