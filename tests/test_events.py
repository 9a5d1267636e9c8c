"""`events/*.json` are what `sam local invoke` sends: each one runs through the handler as it is."""

from __future__ import annotations

import json

import pytest
from support import EVENT_PRODUCT_ID, EVENTS, Api, HistoryApi, load_event

EXPECTED_STATUS = {
    "patch_product": 200,
    "patch_product_rename_model": 200,
    "patch_product_clear_description": 200,
    "patch_product_invalid": 400,
}
# GET .../history events (sam local invoke GetProductHistoryFunction -e ...)
HISTORY_EVENTS = {"get_product_history"}
ROUTE_KEYS = {"PATCH /api/v1/products/{id}", "GET /api/v1/products/{id}/history"}


def test_every_event_file_is_covered() -> None:
    assert sorted(path.stem for path in EVENTS.glob("*.json")) == sorted(EXPECTED_STATUS.keys() | HISTORY_EVENTS)


@pytest.mark.parametrize("name", sorted(EXPECTED_STATUS))
def test_event_runs_as_is(api: Api, name: str) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="LI-48V-20AH")
    event = load_event(name)
    response = api.invoke(event)
    assert response.status == EXPECTED_STATUS[name], response.body
    body = response.json
    if response.status == 200:
        sent = json.loads(event["body"])
        stored = api.stored_item(EVENT_PRODUCT_ID)
        assert stored is not None
        for field, value in sent.items():
            assert body[field] == value
            assert stored.get(field) == value
        assert body["version"] == 2
    else:
        assert body["requestId"] == event["requestContext"]["requestId"]
        assert {detail["field"] for detail in body["details"]} == set(json.loads(event["body"]))


def test_history_event_runs_as_is(history_api: HistoryApi) -> None:
    product = history_api.api.add_product(EVENT_PRODUCT_ID, model="LI-48V-20AH")
    for version in (1, 2, 3):
        history_api.record(product, version)
    event = load_event("get_product_history")
    response = history_api.invoke(event)
    assert response.status == 200, response.body
    # the event asks for two records: the newest two, and a cursor to the rest
    assert event["queryStringParameters"] == {"limit": "2"}
    assert [item["version"] for item in response.json["items"]] == [3, 2]
    assert response.json["nextCursor"]


def test_events_carry_what_api_gateway_sends() -> None:
    for path in EVENTS.glob("*.json"):
        event = json.loads(path.read_text())
        assert event["version"] == "2.0"
        assert event["routeKey"] in ROUTE_KEYS
        assert event["routeKey"] == event["requestContext"]["routeKey"]
        assert event["requestContext"]["http"]["method"] == event["routeKey"].split(" ")[0]
        assert event["rawPath"] == event["requestContext"]["http"]["path"]
        assert all(name == name.lower() for name in event["headers"]), f"{path.name}: HTTP API lower-cases headers"
