"""`events/*.json` are what `sam local invoke` sends: each one runs through the handler as it is."""

from __future__ import annotations

import json

import pytest
from support import EVENT_PRODUCT_ID, EVENTS, Api, load_event

EXPECTED_STATUS = {
    "patch_product": 200,
    "patch_product_rename_model": 200,
    "patch_product_clear_description": 200,
    "patch_product_invalid": 400,
}


def test_every_event_file_is_covered() -> None:
    assert sorted(path.stem for path in EVENTS.glob("*.json")) == sorted(EXPECTED_STATUS)


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


def test_events_carry_what_api_gateway_sends() -> None:
    for path in EVENTS.glob("*.json"):
        event = json.loads(path.read_text())
        assert event["version"] == "2.0"
        assert event["routeKey"] == "PATCH /api/v1/products/{id}"
        assert event["requestContext"]["http"]["method"] == "PATCH"
        assert event["rawPath"] == event["requestContext"]["http"]["path"]
        assert all(name == name.lower() for name in event["headers"]), f"{path.name}: HTTP API lower-cases headers"
