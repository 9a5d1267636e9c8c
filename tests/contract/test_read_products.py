"""GET /api/v1/products/{id} and GET /api/v1/products: the caller's company reads its products, on moto and on
DynamoDB Local. Products are seeded through the product store (as the import does) and through PATCH."""

from __future__ import annotations

import copy
import uuid
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import pytest
from products_api.core.settings import ReadSettings, read_settings
from products_api.products.read_runtime import ReadRuntime
from support import (
    EVENT_PRODUCT_ID,
    EVENT_TOKEN,
    Api,
    ApiResponse,
    FunctionCaller,
    function_module,
    invoke_handler,
    load_event,
)

READ_TOKEN = "tp_acme_read_only_token_00000000000000000"
WRITE_TOKEN = "tp_acme_write_only_token_0000000000000000"
HISTORY_ONLY_TOKEN = "tp_acme_other_scope_token_000000000000000"
GLOBEX_TOKEN = "tp_globex_read_token_000000000000000000000"


def read_handler_module() -> ModuleType:
    """The read function's module (GET /api/v1/products/{id} and GET /api/v1/products)."""
    return function_module("get_products")


class ReadApi(FunctionCaller):
    def __init__(self, api: Api) -> None:
        super().__init__(read_handler_module())
        self.api = api

    def get(self, product_id: str, headers: dict[str, str] | None = None, *, token: str = EVENT_TOKEN) -> ApiResponse:
        event = copy.deepcopy(load_event("get_product"))
        path = f"/api/v1/products/{product_id}"
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["pathParameters"] = {"id": product_id}
        event["requestContext"]["requestId"] = str(uuid.uuid4())
        event["headers"] = {"authorization": f"Bearer {token}", **(headers or {})}
        return self.invoke(event)

    def list_products(
        self, query: dict[str, str] | None = None, headers: dict[str, str] | None = None, *, token: str = EVENT_TOKEN
    ) -> ApiResponse:
        event = copy.deepcopy(load_event("list_products"))
        event["requestContext"]["requestId"] = str(uuid.uuid4())
        event["headers"] = {"authorization": f"Bearer {token}", **(headers or {})}
        event["rawQueryString"] = urlencode(query or {})
        event.pop("queryStringParameters", None)
        if query:
            event["queryStringParameters"] = dict(query)
        return self.invoke(event)

    def walk(self, query: dict[str, str]) -> tuple[list[str], int]:
        """Every product id the pages hand out, following nextCursor, and how many pages it took."""
        seen: list[str] = []
        pages = 0
        current = dict(query)
        while True:
            response = self.list_products(current)
            assert response.status == 200, response.body
            pages += 1
            seen += [item["_id"] for item in response.json["items"]]
            cursor = response.json["nextCursor"]
            if cursor is None:
                return seen, pages
            assert pages <= 60, "the cursor never ends"
            current = {**query, "cursor": cursor}


@pytest.fixture
def read_api(api: Api, monkeypatch: pytest.MonkeyPatch) -> ReadApi:
    """The read function on its own settings (as its container reads them) and on `api`'s client."""
    runtime = ReadRuntime.build(read_settings(ReadSettings), api.client)
    monkeypatch.setattr(read_handler_module(), "get_read_runtime", lambda: runtime)
    api.add_credential(READ_TOKEN, scopes=("products:read",))
    api.add_credential(WRITE_TOKEN, scopes=("products:write",))
    api.add_credential(HISTORY_ONLY_TOKEN, scopes=("products:history",))
    api.add_credential(GLOBEX_TOKEN, company_id="GLOBEX", scopes=("products:read",))
    return ReadApi(api)


def product_id(number: int) -> str:
    return f"{number:024x}"


# --- GET /api/v1/products/{id} -----------------------------------------------------------------------------------


def test_get_answers_the_product_as_patch_does(read_api: ReadApi) -> None:
    read_api.api.add_product(EVENT_PRODUCT_ID, model="LI-48V-20AH")
    patched = read_api.api.patch(EVENT_PRODUCT_ID, {"description": None})
    assert patched.status == 200, patched.body
    response = read_api.get(EVENT_PRODUCT_ID.upper())
    assert response.status == 200, response.body
    assert response.json == patched.json
    assert response.body == patched.body
    assert response.header("ETag") == '"2"' == patched.header("ETag")
    assert response.header("Cache-Control") == "private, no-cache"
    assert response.header("Content-Type") == "application/json"
    assert response.header("Content-Language") is None


@pytest.mark.parametrize("token", [READ_TOKEN, WRITE_TOKEN])
def test_read_or_write_scope_may_read(read_api: ReadApi, token: str) -> None:
    read_api.api.add_product(EVENT_PRODUCT_ID)
    assert read_api.get(EVENT_PRODUCT_ID, token=token).status == 200
    assert read_api.list_products(token=token).status == 200


def test_another_scope_is_refused_naming_the_read_scope(read_api: ReadApi) -> None:
    read_api.api.add_product(EVENT_PRODUCT_ID)
    for response in (
        read_api.get(EVENT_PRODUCT_ID, token=HISTORY_ONLY_TOKEN),
        read_api.list_products(token=HISTORY_ONLY_TOKEN),
    ):
        assert response.status == 403, response.body
        assert response.json["code"] == "insufficient_scope"
        assert 'scope="products:read"' in (response.header("WWW-Authenticate") or "")


def test_another_companys_product_is_not_found(read_api: ReadApi) -> None:
    read_api.api.add_product(EVENT_PRODUCT_ID)
    response = read_api.get(EVENT_PRODUCT_ID, token=GLOBEX_TOKEN)
    assert response.status == 404, response.body
    assert response.json["code"] == "not_found"
    assert response.json["error"] == "Product not found"
    assert read_api.get(product_id(999)).status == 404


def test_bad_id_and_missing_credential(read_api: ReadApi) -> None:
    assert read_api.get("not-an-object-id").json["code"] == "invalid_id"
    assert read_api.get(EVENT_PRODUCT_ID, token="tp_wrong").status == 401


@pytest.mark.parametrize(
    ("if_none_match", "not_modified"),
    [
        ('"3"', True),
        ('W/"3"', True),  # If-None-Match compares weakly (RFC 9110)
        ('"1", "3"', True),
        ("*", True),
        ('"2"', False),
        ('W/"2", "4"', False),
        ("3", False),  # not an entity tag: matches nothing, the product is answered
    ],
)
def test_if_none_match(read_api: ReadApi, if_none_match: str, not_modified: bool) -> None:
    read_api.api.add_product(EVENT_PRODUCT_ID, version=3)
    response = read_api.get(EVENT_PRODUCT_ID, {"if-none-match": if_none_match})
    assert response.header("ETag") == '"3"'
    assert response.header("Cache-Control") == "private, no-cache"
    if not_modified:
        assert response.status == 304
        assert response.body == ""
        assert response.header("Content-Type") is None
    else:
        assert response.status == 200
        assert response.json["version"] == 3


def test_get_then_conditional_patch(read_api: ReadApi) -> None:
    """GET -> PATCH with If-Match: the ETag read is the one the update compares."""
    read_api.api.add_product(EVENT_PRODUCT_ID)
    etag = read_api.get(EVENT_PRODUCT_ID).header("ETag")
    assert etag is not None
    assert read_api.api.patch(EVENT_PRODUCT_ID, {"name": "First"}, {"If-Match": etag}).status == 200
    stale = read_api.api.patch(EVENT_PRODUCT_ID, {"name": "Second"}, {"If-Match": etag})
    assert stale.status == 412
    assert read_api.get(EVENT_PRODUCT_ID).json["name"] == "First"


# --- GET /api/v1/products ----------------------------------------------------------------------------------------


def test_list_pages_through_every_product_once(read_api: ReadApi) -> None:
    ids = [read_api.api.add_product(product_id(n)).id for n in range(1, 8)]
    read_api.api.add_product(product_id(50), company_id="GLOBEX")
    first = read_api.list_products({"limit": "3"})
    assert first.status == 200, first.body
    assert first.header("Cache-Control") == "no-store"
    assert [item["_id"] for item in first.json["items"]] == ids[:3]
    assert first.json["items"][0] == read_api.get(ids[0]).json
    seen, pages = read_api.walk({"limit": "3"})
    assert seen == ids
    assert pages == 3


def test_a_full_last_page_has_no_cursor(read_api: ReadApi) -> None:
    for n in range(1, 5):
        read_api.api.add_product(product_id(n))
    response = read_api.list_products({"limit": "4"})
    assert len(response.json["items"]) == 4
    assert response.json["nextCursor"] is None
    assert read_api.walk({"limit": "2"}) == ([product_id(n) for n in range(1, 5)], 2)


def test_default_limit_is_20_and_empty_company_is_an_empty_page(read_api: ReadApi) -> None:
    empty = read_api.list_products()
    assert empty.status == 200
    assert empty.json == {"items": [], "nextCursor": None}
    for n in range(1, 23):
        read_api.api.add_product(product_id(n))
    response = read_api.list_products()
    assert len(response.json["items"]) == 20
    assert response.json["nextCursor"] is not None


def test_status_filter_fills_pages_across_dropped_products(read_api: ReadApi) -> None:
    archived = []
    for n in range(1, 31):
        status = "archived" if n % 7 == 0 else "active"
        read_api.api.add_product(product_id(n), status=status)
        if status == "archived":
            archived.append(product_id(n))
    first = read_api.list_products({"status": "archived", "limit": "2"})
    assert [item["_id"] for item in first.json["items"]] == archived[:2]
    assert all(item["status"] == "archived" for item in first.json["items"])
    seen, pages = read_api.walk({"status": "archived", "limit": "2"})
    assert seen == archived
    assert pages == 2
    active, _ = read_api.walk({"status": "active", "limit": "10"})
    assert len(active) == 30 - len(archived)


def test_cursor_is_bound_to_company_and_filter(read_api: ReadApi) -> None:
    for n in range(1, 5):
        read_api.api.add_product(product_id(n))
    cursor = read_api.list_products({"limit": "1"}).json["nextCursor"]
    other_company = read_api.list_products({"limit": "1", "cursor": cursor}, token=GLOBEX_TOKEN)
    assert other_company.status == 400
    assert other_company.json["code"] == "invalid_cursor"
    other_filter = read_api.list_products({"limit": "1", "cursor": cursor, "status": "active"})
    assert other_filter.json["code"] == "invalid_cursor"
    assert "status" in other_filter.json["error"]
    garbled = read_api.list_products({"cursor": cursor[:-2] + "xx"})
    assert garbled.json["code"] == "invalid_cursor"


def test_model_lookup_uses_the_uniqueness_key(read_api: ReadApi) -> None:
    read_api.api.add_product(product_id(1), model="LI-48V-20AH")
    read_api.api.add_product(product_id(2), model="Other")
    read_api.api.add_product(product_id(3), company_id="GLOBEX", model="GLOBEX-ONLY")
    for spelling in ("LI-48V-20AH", "li-48v-20ah", "  Li-48V-20Ah "):
        response = read_api.list_products({"model": spelling})
        assert response.status == 200, response.body
        assert [item["_id"] for item in response.json["items"]] == [product_id(1)]
        assert response.json["nextCursor"] is None
    assert read_api.list_products({"model": "missing"}).json["items"] == []
    # another company's model is not found
    assert read_api.list_products({"model": "GLOBEX-ONLY"}).json["items"] == []
    assert read_api.list_products({"model": "LI-48V-20AH", "status": "archived"}).json["items"] == []


def test_model_lookup_follows_a_rename(read_api: ReadApi) -> None:
    read_api.api.add_product(product_id(1), model="OLD-1")
    assert read_api.api.patch(product_id(1), {"model": "NEW-1"}).status == 200
    assert read_api.list_products({"model": "OLD-1"}).json["items"] == []
    assert [item["model"] for item in read_api.list_products({"model": "new-1"}).json["items"]] == ["NEW-1"]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"limit": "0"}, ["limit"]),
        ({"limit": "101"}, ["limit"]),
        ({"limit": "ten"}, ["limit"]),
        ({"status": "deleted"}, ["status"]),
        ({"model": "   "}, ["model"]),
        ({"model": "x" * 101}, ["model"]),
        ({"model": "X", "cursor": "abc"}, ["cursor"]),
        ({"sort": "name", "limit": "0"}, ["sort", "limit"]),
    ],
)
def test_bad_queries_are_refused_at_once(read_api: ReadApi, query: dict[str, str], fields: list[str]) -> None:
    response = read_api.list_products(query)
    assert response.status == 400, response.body
    assert response.json["code"] == "validation_error"
    assert [detail["field"] for detail in response.json["details"]] == fields


def test_list_limit_100_is_accepted(read_api: ReadApi) -> None:
    read_api.api.add_product(product_id(1))
    assert read_api.list_products({"limit": "100"}).status == 200


def test_reads_write_nothing(read_api: ReadApi) -> None:
    read_api.api.add_product(EVENT_PRODUCT_ID)
    before = read_api.api.all_items()
    read_api.get(EVENT_PRODUCT_ID)
    read_api.list_products({"limit": "5"})
    read_api.list_products({"model": "anything"})
    assert read_api.api.all_items() == before


# --- events/ (what `sam local invoke GetProductsFunction -e ...` sends), run as they are -------------------------


def test_get_product_event_runs_as_is(read_api: ReadApi) -> None:
    read_api.api.add_product(EVENT_PRODUCT_ID, model="LI-48V-20AH")
    event = load_event("get_product")
    response = invoke_handler(read_api.handler, event)
    assert response.status == 200, response.body
    assert response.json["_id"] == EVENT_PRODUCT_ID
    assert response.header("ETag") == '"1"'


def test_list_products_event_runs_as_is(read_api: ReadApi) -> None:
    for n in range(1, 4):
        read_api.api.add_product(product_id(n))
    read_api.api.add_product(product_id(4), status="archived")
    event = load_event("list_products")
    assert event["queryStringParameters"] == {"limit": "2", "status": "active"}
    response = invoke_handler(read_api.handler, event)
    assert response.status == 200, response.body
    assert [item["_id"] for item in response.json["items"]] == [product_id(1), product_id(2)]
    assert response.json["nextCursor"]


def test_the_get_events_language_is_italian(read_api: ReadApi) -> None:
    """events/get_product.json asks for Italian (`it-IT,it;q=0.9,en;q=0.5`): its 404 answers in Italian."""
    event = load_event("get_product")
    response = invoke_handler(read_api.handler, event)
    assert response.status == 404
    assert response.header("Content-Language") == "it"
    assert response.json["error"] == "Prodotto non trovato"
    assert response.json["code"] == "not_found"


def test_pages_continue_past_a_1_mb_query_answer(
    read_api: ReadApi, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Query stops at 1 MB whatever its Limit: 40 products of ~30 KB fill more than that, and a page of 36 still
    holds 36 (the store goes on from LastEvaluatedKey), as does a filtered one."""
    blob = {"blob": "x" * (30 * 1024)}
    for n in range(1, 41):
        read_api.api.add_product(product_id(n), default_field_values=blob, status="archived" if n % 2 else "active")
    client = read_api.api.client
    cut_answers: list[int] = []
    real_query = client.query

    def counting_query(**kwargs: Any) -> Any:
        response = real_query(**kwargs)
        if "LastEvaluatedKey" in response and len(response["Items"]) < kwargs["Limit"]:
            cut_answers.append(len(response["Items"]))
        return response

    monkeypatch.setattr(client, "query", counting_query)
    page = read_api.list_products({"limit": "36"})
    # both backends cut at 1 MB as AWS does (moto counts item sizes a little differently): a second Query was needed
    assert cut_answers, f"no Query answer was cut at 1 MB on {backend}: the test proves nothing"
    assert [item["_id"] for item in page.json["items"]] == [product_id(n) for n in range(1, 37)]
    assert page.json["nextCursor"] is not None
    assert read_api.walk({"limit": "36"}) == ([product_id(n) for n in range(1, 41)], 2)
    active = read_api.list_products({"limit": "20", "status": "active"})
    assert [item["_id"] for item in active.json["items"]] == [product_id(n) for n in range(2, 41, 2)]
    assert active.json["nextCursor"] is None
