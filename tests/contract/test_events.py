"""`events/*.json` are what `sam local invoke` sends: each one runs through its function's handler as it is."""

from __future__ import annotations

import json
from typing import Any

import pytest
from changes_support import Changes
from products_api.history.store import FieldChange
from products_api_local.streams.sources import stream_sources_from_template
from support import EVENT_PRODUCT_ID, EVENTS, Api, HistoryApi, http_event_files, load_event

EXPECTED_STATUS = {
    "patch_product": 200,
    "patch_product_rename_model": 200,
    "patch_product_clear_description": 200,
    "patch_product_invalid": 400,
}
# GET .../history events (sam local invoke GetProductHistoryFunction -e ...)
HISTORY_EVENTS = ("get_product_history",)
# GET /api/v1/usage (GetUsageFunction), run in tests/contract/test_metering.py
USAGE_EVENTS = ("get_usage",)
# the image routes' events (ProductImagesFunction), run in tests/test_images_routes.py
IMAGE_EVENTS = ("upload_product_image", "create_image_upload", "get_image_upload")
# S3 notifications for IngestProductImageFunction, run in tests/test_images_routes.py
S3_EVENTS = ("ingest_product_image",)
# the read routes' events (sam local invoke GetProductsFunction -e ...), run by test_read_products.py
READ_EVENTS = ("get_product", "list_products")
ROUTE_KEYS = {
    "GET /api/v1/products/{id}",
    "GET /api/v1/products",
    "PATCH /api/v1/products/{id}",
    "GET /api/v1/products/{id}/history",
    "POST /api/v1/products/{id}/images",
    "POST /api/v1/products/{id}/images/uploads",
    "GET /api/v1/products/{id}/images/uploads/{uploadId}",
    "GET /api/v1/usage",
}
# DynamoDB stream events for ProductChangesFunction (`sam local invoke ProductChangesFunction -e ...`).
STREAM_EVENTS = ("product_changes_rename",)
# What Lambda's DynamoDB event source puts in each record.
STREAM_RECORD_KEYS = {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN"}
STREAM_DYNAMODB_KEYS = {
    "ApproximateCreationDateTime",
    "Keys",
    "NewImage",
    "OldImage",
    "SequenceNumber",
    "SizeBytes",
    "StreamViewType",
}


def test_every_event_file_is_covered() -> None:
    assert sorted(path.stem for path in EVENTS.glob("*.json")) == sorted(
        [*EXPECTED_STATUS, *HISTORY_EVENTS, *STREAM_EVENTS, *IMAGE_EVENTS, *S3_EVENTS, *READ_EVENTS, *USAGE_EVENTS]
    )
    assert sorted(path.stem for path in http_event_files()) == sorted(
        [*EXPECTED_STATUS, *HISTORY_EVENTS, *IMAGE_EVENTS, *READ_EVENTS, *USAGE_EVENTS]
    )


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
    for path in http_event_files():
        event = json.loads(path.read_text())
        assert event["version"] == "2.0"
        assert event["routeKey"] in ROUTE_KEYS
        assert event["routeKey"] == event["requestContext"]["routeKey"]
        assert event["requestContext"]["http"]["method"] == event["routeKey"].split(" ")[0]
        assert event["rawPath"] == event["requestContext"]["http"]["path"]
        assert all(name == name.lower() for name in event["headers"]), f"{path.name}: HTTP API lower-cases headers"


def test_the_rename_stream_event_runs_as_is(api: Api, changes: Changes) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="LI-48V-20AH")
    changes.deliver()
    changes.published()

    assert changes.invoke(load_event("product_changes_rename")["Records"]) == {"batchItemFailures": []}

    latest = changes.entries(EVENT_PRODUCT_ID)[-1]
    assert latest.version == 2
    assert latest.changed_by == "cred_3f9a1c2e7b4d6a80"
    assert latest.changes == (
        FieldChange(field="name", before="Li-Ion 48V Battery Pack", after="Li-Ion 48V Battery Pack (revised)"),
        FieldChange(field="model", before="LI-48V-20AH", after="LI-48V-30AH"),
    )
    # the two lock records of the rename publish nothing
    (event,) = changes.published()
    assert (event["detail-type"], event["detail"]["changedFields"]) == ("ProductUpdated", ["name", "model"])


@pytest.mark.parametrize("name", STREAM_EVENTS)
def test_stream_events_carry_what_lambda_sends(name: str, cfn_template: dict[str, Any]) -> None:
    records = load_event(name)["Records"]
    for record in records:
        assert set(record) == STREAM_RECORD_KEYS
        assert record["eventSource"] == "aws:dynamodb"
        assert set(record["dynamodb"]) <= STREAM_DYNAMODB_KEYS
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    # the template's filter passes the product's record and holds back the model locks'
    (source,) = stream_sources_from_template(cfn_template)
    selected = [record["dynamodb"]["Keys"]["sk"]["S"] for record in records if source.selects(record)]
    assert selected == [f"PRODUCT#{EVENT_PRODUCT_ID}"]
