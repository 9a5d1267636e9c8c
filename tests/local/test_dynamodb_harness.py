"""The test harness itself: tables created from the template on both backends."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from products_api_local.template.document import TemplateError, load_template
from products_api_local.template.tables import create_tables, table_definitions
from template_samples import RICH_TEMPLATE, write_template

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


# --- tables on both backends ------------------------------------------------------------------------------------


def test_tables_have_the_template_keys(
    dynamodb_client: DynamoDBClient, table_names: dict[str, str], cfn_template: dict[str, Any]
) -> None:
    definitions = table_definitions(cfn_template)
    assert table_names.keys() == definitions.keys()

    for logical_id, name in table_names.items():
        expected = definitions[logical_id].create_table_kwargs
        table = dynamodb_client.describe_table(TableName=name)["Table"]
        assert table["TableStatus"] == "ACTIVE"
        assert table["KeySchema"] == expected["KeySchema"]
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(expected["AttributeDefinitions"], key=str)
        assert table.get("BillingModeSummary", {}).get("BillingMode") == expected["BillingMode"]


def test_ttl_is_enabled_where_the_template_says(
    dynamodb_client: DynamoDBClient, table_names: dict[str, str], cfn_template: dict[str, Any]
) -> None:
    definitions = table_definitions(cfn_template)

    statuses = {
        logical_id: dynamodb_client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        for logical_id, name in table_names.items()
    }

    assert statuses["IdempotencyTable"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}
    for logical_id, status in statuses.items():
        if definitions[logical_id].ttl_attribute is None:
            assert status["TimeToLiveStatus"] == "DISABLED"


def test_create_tables_is_idempotent(
    dynamodb_client: DynamoDBClient, table_names: dict[str, str], cfn_template: dict[str, Any]
) -> None:
    products = table_names["ProductsTable"]
    item = {"pk": {"S": "COMPANY#ACME"}, "sk": {"S": "PRODUCT#1"}, "name": {"S": "kept"}}
    dynamodb_client.put_item(TableName=products, Item=item)
    before = {
        name: dynamodb_client.describe_table(TableName=name)["Table"]["CreationDateTime"]
        for name in table_names.values()
    }

    create_tables(dynamodb_client, table_names, cfn_template)
    create_tables(dynamodb_client, table_names, cfn_template)

    after = {
        name: dynamodb_client.describe_table(TableName=name)["Table"]["CreationDateTime"]
        for name in table_names.values()
    }
    assert after == before
    stored = dynamodb_client.get_item(TableName=products, Key={"pk": item["pk"], "sk": item["sk"]}, ConsistentRead=True)
    assert stored["Item"] == item
    ttl = dynamodb_client.describe_time_to_live(TableName=table_names["IdempotencyTable"])["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"


def test_an_existing_table_with_other_keys_is_an_error(
    dynamodb_client: DynamoDBClient, cfn_template: dict[str, Any]
) -> None:
    name = f"t-{uuid.uuid4().hex[:8]}-stale"
    dynamodb_client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )

    with pytest.raises(TemplateError, match=f"table {name} already exists with other key schema"):
        create_tables(dynamodb_client, {"ProductsTable": name}, cfn_template)


def test_create_tables_refuses_what_dynamodb_refuses(
    dynamodb_client: DynamoDBClient, cfn_template: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="invalid DynamoDB table name 'ab'"):
        create_tables(dynamodb_client, {"ProductsTable": "ab"}, cfn_template)
    with pytest.raises(TemplateError, match="no AWS::DynamoDB::Table NoSuchTable"):
        create_tables(dynamodb_client, {"NoSuchTable": "t-no-such-table"}, cfn_template)


def test_a_table_made_before_its_stream_was_declared_gets_it(
    dynamodb_client: DynamoDBClient, cfn_template: dict[str, Any]
) -> None:
    """A local database kept from before the template declared the products stream: the stream is turned on."""
    name = f"t-{uuid.uuid4().hex[:8]}-products"
    definition = table_definitions(cfn_template)["ProductsTable"].create_table_kwargs
    dynamodb_client.create_table(
        TableName=name, **{key: value for key, value in definition.items() if key != "StreamSpecification"}
    )

    create_tables(dynamodb_client, {"ProductsTable": name}, cfn_template)

    table = dynamodb_client.describe_table(TableName=name)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["LatestStreamArn"]
    create_tables(dynamodb_client, {"ProductsTable": name}, cfn_template)  # and again: nothing to change


def test_indexes_and_streams_are_created(dynamodb_client: DynamoDBClient, tmp_path: Path) -> None:
    template = load_template(write_template(tmp_path, RICH_TEMPLATE))
    names = {"EventsTable": f"t-{uuid.uuid4().hex[:8]}-events", "OnDemandTable": f"t-{uuid.uuid4().hex[:8]}-od"}

    create_tables(dynamodb_client, names, template)

    events = dynamodb_client.describe_table(TableName=names["EventsTable"])["Table"]
    assert events["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert [(index["IndexName"], index["KeySchema"]) for index in events["GlobalSecondaryIndexes"]] == [
        ("byGroup", [{"AttributeName": "gpk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    ]
    assert [index["IndexName"] for index in events["LocalSecondaryIndexes"]] == ["byRank"]
    assert events["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    on_demand = dynamodb_client.describe_table(TableName=names["OnDemandTable"])["Table"]
    assert [index["IndexName"] for index in on_demand["GlobalSecondaryIndexes"]] == ["byKind"]


def test_fresh_tables_are_ready_without_polling(dynamodb_client: DynamoDBClient, cfn_template: dict[str, Any]) -> None:
    # Speed belongs in benchmarks; what keeps table set-up fast is behaviour: the tables are ACTIVE as soon as
    # create_tables returns, and it never polls (boto3's waiter, for one, would take 20 s).
    logical_ids = list(table_definitions(cfn_template))
    calls: list[str] = []
    dynamodb_client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    names = {logical_id: f"{prefix}-{logical_id}" for logical_id in logical_ids}
    create_tables(dynamodb_client, names, cfn_template)
    assert calls.count("CreateTable") == len(logical_ids), calls
    assert calls.count("DescribeTable") <= len(logical_ids), calls
    for name in names.values():
        assert dynamodb_client.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"


def test_table_env_points_a_default_client_at_the_tables(
    table_env: dict[str, str], table_names: dict[str, str], backend: str, cfn_template: dict[str, Any]
) -> None:
    function_tables = {
        variable: value["Ref"]
        for resource in cfn_template["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::Function"
        for variable, value in resource["Properties"].get("Environment", {}).get("Variables", {}).items()
        if isinstance(value, dict) and value.get("Ref") in table_names
    }
    assert {variable: table_env[variable] for variable in function_tables} == {
        variable: table_names[logical_id] for variable, logical_id in function_tables.items()
    }
    assert ("AWS_ENDPOINT_URL_DYNAMODB" in os.environ) == (backend == "dynamodb_local")

    # What the application does: a client from the environment alone.
    client = boto3.client("dynamodb")
    for name in table_names.values():
        assert client.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE"
