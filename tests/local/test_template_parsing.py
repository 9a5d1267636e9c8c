"""The test harness itself: template.yaml parsed (short-form tags, errors) and its table definitions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from products_api_local.template.document import TemplateError, load_template, project_root
from products_api_local.template.tables import table_definitions
from template_samples import MINIMAL_TABLE, RICH_TEMPLATE, table_template, write_template

if TYPE_CHECKING:
    pass


REPOSITORY = Path(__file__).resolve().parents[2]


# --- template parsing -------------------------------------------------------------------------------------------


def test_short_form_tags_become_long_form(tmp_path: Path) -> None:
    path = write_template(
        tmp_path,
        """\
        AWSTemplateFormatVersion: 2010-09-09
        Conditions:
          IsProd: !Equals [!Ref Stage, prod]
          Never: !And [!Condition IsProd, !Not [!Condition IsProd]]
        Resources:
          Thing:
            Properties:
              Name: !Ref Table
              Arn: !GetAtt Table.Arn
              Address: !GetAtt [Db, Endpoint.Address]
              Port: !GetAtt Db.Endpoint.Port
              Url: !Sub https://${Api}.execute-api.${AWS::Region}.amazonaws.com
              Named: !Sub ["${A}-x", {A: !Ref B}]
              Joined: !Join [",", [a, !Ref C]]
              Choice: !If [IsProd, !Ref AWS::NoValue, 1]
              Zone: !Select [0, !GetAZs ""]
              Encoded: !Base64 {"Fn::Sub": "x"}
        """,
    )
    template = load_template(path)

    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert template["Conditions"] == {
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "Never": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [{"Condition": "IsProd"}]}]},
    }
    assert template["Resources"]["Thing"]["Properties"] == {
        "Name": {"Ref": "Table"},
        "Arn": {"Fn::GetAtt": ["Table", "Arn"]},
        "Address": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
        "Port": {"Fn::GetAtt": ["Db", "Endpoint.Port"]},
        "Url": {"Fn::Sub": "https://${Api}.execute-api.${AWS::Region}.amazonaws.com"},
        "Named": {"Fn::Sub": ["${A}-x", {"A": {"Ref": "B"}}]},
        "Joined": {"Fn::Join": [",", ["a", {"Ref": "C"}]]},
        "Choice": {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, 1]},
        "Zone": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        "Encoded": {"Fn::Base64": {"Fn::Sub": "x"}},
    }


def test_the_project_template_loads(cfn_template: dict[str, Any]) -> None:
    assert project_root() == REPOSITORY
    variables = cfn_template["Resources"]["UpdateProductFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["PRODUCTS_TABLE_NAME"] == {"Ref": "ProductsTable"}
    assert cfn_template["Outputs"]["UpdateProductFunctionArn"]["Value"] == {
        "Fn::GetAtt": ["UpdateProductFunction", "Arn"]
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Resources:\n  X: {Properties: {A: !GetAtt NoAttribute}}\n", "Resource.Attribute"),
        ("Resources: [not, a, mapping]\n", "no Resources mapping"),
        ("Resources: {A: [unclosed}\n", "cannot read"),
    ],
    ids=["getatt", "resources", "syntax"],
)
def test_unreadable_templates_are_reported(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        load_template(write_template(tmp_path, text))


def test_missing_template_is_reported(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="cannot read"):
        load_template(tmp_path / "template.yaml")


def test_table_definitions_keep_what_shapes_the_table_and_drop_cloudformation_settings(tmp_path: Path) -> None:
    definitions = table_definitions(load_template(write_template(tmp_path, RICH_TEMPLATE)))

    assert sorted(definitions) == ["EventsTable", "OnDemandTable"]
    events = definitions["EventsTable"]
    assert events.logical_id == "EventsTable"
    assert events.ttl_attribute is None
    assert events.create_table_kwargs == {
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "gpk", "AttributeType": "S"},
            {"AttributeName": "lsk", "AttributeType": "N"},
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "byGroup",
                "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            }
        ],
        "LocalSecondaryIndexes": [
            {
                "IndexName": "byRank",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "lsk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]},
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }
    on_demand = definitions["OnDemandTable"]
    # The API refuses index capacity on an on-demand table, and a disabled TTL is no TTL.
    assert "ProvisionedThroughput" not in on_demand.create_table_kwargs["GlobalSecondaryIndexes"][0]
    assert on_demand.ttl_attribute is None


def test_project_tables_come_from_the_template(cfn_template: dict[str, Any]) -> None:
    definitions = table_definitions(cfn_template)

    assert {"ProductsTable", "IdempotencyTable", "CredentialsTable"} <= definitions.keys()
    assert definitions["IdempotencyTable"].ttl_attribute == "expiration"
    assert definitions["ProductsTable"].create_table_kwargs["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("Frobnicate: true", "unsupported property Frobnicate"),
        (
            "GlobalSecondaryIndexes:\n  - {IndexName: g, KeySchema: [], Projection: {}, Sharding: 4}",
            r"GlobalSecondaryIndexes\[0\]: unsupported property Sharding",
        ),
        ("StreamSpecification: {StreamViewType: KEYS_ONLY, Shards: 2}", "unsupported property Shards"),
        ("TimeToLiveSpecification: {AttributeName: ttl, Enabled: maybe}", "Enabled must be true or false"),
        ("StreamSpecification: !If [IsProd, {StreamViewType: KEYS_ONLY}, !Ref AWS::NoValue]", "Fn::If cannot"),
    ],
    ids=["table", "index", "stream", "ttl", "intrinsic"],
)
def test_unknown_table_settings_raise(tmp_path: Path, extra: str, message: str) -> None:
    template = load_template(write_template(tmp_path, table_template(MINIMAL_TABLE + extra + "\n")))

    with pytest.raises(TemplateError, match=message):
        table_definitions(template)
