"""The DynamoDB tables of `template.yaml`, created locally (moto, DynamoDB Local) exactly as the template declares them.

The template is the single source of truth for key schemas, indexes, streams and TTL: tests and the local runner
read it rather than repeating the definitions, so a change to the template cannot leave them testing another shape.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from products_api_local.template.document import TEMPLATE_FILE, TemplateError, load_template

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


# Properties of AWS::DynamoDB::Table that only matter to CloudFormation or to operating the table in AWS (backups,
# protection, encryption, tagging, capacity and cost settings, CloudFormation's own naming): they do not change how
# the table behaves for the application, and moto or DynamoDB Local either lack them or ignore them. They are skipped
# on purpose; any property not named here or handled below is an error, so the local tables cannot silently drift.
IGNORED_TABLE_PROPERTIES = frozenset(
    {
        "ContributorInsightsSpecification",
        "DeletionProtectionEnabled",
        "ImportSourceSpecification",
        "KinesisStreamSpecification",
        "OnDemandThroughput",
        "PointInTimeRecoverySpecification",
        "ResourcePolicy",
        "SSESpecification",
        "TableClass",
        # The physical name always comes from the caller: tests use a fresh name per test.
        "TableName",
        "Tags",
        "WarmThroughput",
    }
)
HANDLED_TABLE_PROPERTIES = frozenset(
    {
        "AttributeDefinitions",
        "BillingMode",
        "GlobalSecondaryIndexes",
        "KeySchema",
        "LocalSecondaryIndexes",
        "ProvisionedThroughput",
        "StreamSpecification",
        "TimeToLiveSpecification",
    }
)
# The same split for the items of GlobalSecondaryIndexes and LocalSecondaryIndexes.
IGNORED_INDEX_PROPERTIES = frozenset({"ContributorInsightsSpecification", "OnDemandThroughput", "WarmThroughput"})
HANDLED_INDEX_PROPERTIES = frozenset({"IndexName", "KeySchema", "Projection", "ProvisionedThroughput"})

# The rule DynamoDB applies (DynamoDB Local enforces it, moto does not): checked here so both backends agree.
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_ACTIVE_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class TableDefinition:
    logical_id: str
    # Ready for `client.create_table(TableName=..., **create_table_kwargs)`.
    create_table_kwargs: dict[str, Any]
    ttl_attribute: str | None


def table_definitions(template: Mapping[str, Any]) -> dict[str, TableDefinition]:
    """Every AWS::DynamoDB::Table of the template, by logical id."""
    definitions: dict[str, TableDefinition] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if isinstance(resource, Mapping) and resource.get("Type") == "AWS::DynamoDB::Table":
            definitions[logical_id] = _table_definition(logical_id, resource.get("Properties") or {})
    return definitions


def _table_definition(logical_id: str, properties: Mapping[str, Any]) -> TableDefinition:
    where = f"{TEMPLATE_FILE}: {logical_id}"
    _check_keys(where, properties, HANDLED_TABLE_PROPERTIES, IGNORED_TABLE_PROPERTIES)
    for name in HANDLED_TABLE_PROPERTIES & properties.keys():
        _reject_intrinsics(f"{where}.{name}", properties[name])
    for required in ("AttributeDefinitions", "KeySchema"):
        if not isinstance(properties.get(required), list) or not properties[required]:
            raise TemplateError(f"{where}: {required} must be a non-empty list")

    # CloudFormation's default billing mode is PROVISIONED, as is the API's.
    billing_mode = properties.get("BillingMode", "PROVISIONED")
    kwargs: dict[str, Any] = {
        "AttributeDefinitions": copy.deepcopy(properties["AttributeDefinitions"]),
        "KeySchema": copy.deepcopy(properties["KeySchema"]),
        "BillingMode": billing_mode,
    }
    if "ProvisionedThroughput" in properties:
        kwargs["ProvisionedThroughput"] = _throughput(where, properties["ProvisionedThroughput"])
    for name in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if name in properties:
            kwargs[name] = [
                _index(f"{where}.{name}[{position}]", index, billing_mode)
                for position, index in enumerate(_list(f"{where}.{name}", properties[name]))
            ]
    if "StreamSpecification" in properties:
        stream = _mapping(f"{where}.StreamSpecification", properties["StreamSpecification"])
        # ResourcePolicy is an AWS access setting; the stream itself is fully described by its view type.
        _check_keys(f"{where}.StreamSpecification", stream, {"StreamViewType"}, {"ResourcePolicy"})
        if "StreamViewType" not in stream:
            raise TemplateError(f"{where}.StreamSpecification: StreamViewType is required")
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}

    return TableDefinition(
        logical_id=logical_id, create_table_kwargs=kwargs, ttl_attribute=_ttl_attribute(where, properties)
    )


def _ttl_attribute(where: str, properties: Mapping[str, Any]) -> str | None:
    if "TimeToLiveSpecification" not in properties:
        return None
    ttl = _mapping(f"{where}.TimeToLiveSpecification", properties["TimeToLiveSpecification"])
    _check_keys(f"{where}.TimeToLiveSpecification", ttl, {"AttributeName", "Enabled"}, set())
    enabled = ttl.get("Enabled")
    # CloudFormation accepts the strings "true"/"false" for booleans.
    if isinstance(enabled, str) and enabled.lower() in {"true", "false"}:
        enabled = enabled.lower() == "true"
    if not isinstance(enabled, bool):
        raise TemplateError(f"{where}.TimeToLiveSpecification.Enabled must be true or false, got {enabled!r}")
    if not enabled:
        return None
    attribute = ttl.get("AttributeName")
    if not isinstance(attribute, str) or not attribute:
        raise TemplateError(f"{where}.TimeToLiveSpecification.AttributeName must be a non-empty string")
    return attribute


def _index(where: str, index: Any, billing_mode: str) -> dict[str, Any]:
    index = _mapping(where, index)
    _check_keys(where, index, HANDLED_INDEX_PROPERTIES, IGNORED_INDEX_PROPERTIES)
    for required in ("IndexName", "KeySchema", "Projection"):
        if required not in index:
            raise TemplateError(f"{where}: {required} is required")
    result = {name: copy.deepcopy(index[name]) for name in ("IndexName", "KeySchema", "Projection")}
    # The API rejects an index throughput on an on-demand table; CloudFormation tolerates it.
    if "ProvisionedThroughput" in index and billing_mode != "PAY_PER_REQUEST":
        result["ProvisionedThroughput"] = _throughput(f"{where}.ProvisionedThroughput", index["ProvisionedThroughput"])
    return result


def _throughput(where: str, value: Any) -> dict[str, int]:
    throughput = _mapping(where, value)
    _check_keys(where, throughput, {"ReadCapacityUnits", "WriteCapacityUnits"}, set())
    try:
        # CloudFormation accepts numbers written as strings.
        return {name: int(throughput[name]) for name in ("ReadCapacityUnits", "WriteCapacityUnits")}
    except (KeyError, TypeError, ValueError) as exc:
        raise TemplateError(f"{where}: ReadCapacityUnits and WriteCapacityUnits must be whole numbers") from exc


def _check_keys(where: str, value: Mapping[str, Any], handled: Set[str], ignored: Set[str]) -> None:
    unknown = sorted(set(value) - handled - ignored)
    if unknown:
        raise TemplateError(
            f"{where}: unsupported propert{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}: "
            f"teach products_api_local.template to create it locally, or to ignore it if it is CloudFormation-only"
        )


def _reject_intrinsics(where: str, value: Any) -> None:
    """Local tables are created from literal values only: a condition or parameter would need a stack to resolve."""
    if isinstance(value, Mapping):
        if len(value) == 1:
            (key,) = value
            if key in {"Ref", "Condition"} or str(key).startswith("Fn::"):
                raise TemplateError(f"{where}: {key} cannot be resolved locally; write the value literally")
        for key, item in value.items():
            _reject_intrinsics(f"{where}.{key}", item)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _reject_intrinsics(f"{where}[{position}]", item)


def _mapping(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TemplateError(f"{where} must be a mapping, got {type(value).__name__}")
    return value


def _list(where: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TemplateError(f"{where} must be a list, got {type(value).__name__}")
    return value


def create_tables(
    client: DynamoDBClient, table_names: Mapping[str, str], template: Mapping[str, Any] | None = None
) -> None:
    """Create each table (logical id -> physical name) as the template declares it, unless it exists; wait until
    every one is ACTIVE and enable TTL where declared. Calling it again with the same names changes nothing.

    An existing table whose keys or indexes differ from the template is an error (a stale local database), rather
    than something tests would run against unnoticed.
    """
    definitions = table_definitions(template if template is not None else load_template())
    unknown = sorted(set(table_names) - set(definitions))
    if unknown:
        raise TemplateError(f"no AWS::DynamoDB::Table {', '.join(unknown)} in {TEMPLATE_FILE}")
    for logical_id, name in table_names.items():
        if not _TABLE_NAME.fullmatch(name):
            raise ValueError(f"invalid DynamoDB table name {name!r} for {logical_id}: 3 to 255 of [A-Za-z0-9_.-]")

    # Create everything first and wait afterwards, so tables that are slow to become ACTIVE are waited for together.
    created: set[str] = set()
    pending: dict[str, str] = {}
    for logical_id, name in table_names.items():
        try:
            response = client.create_table(TableName=name, **definitions[logical_id].create_table_kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
            description = client.describe_table(TableName=name)["Table"]
            _check_existing(name, definitions[logical_id], description)
            if _enable_stream(client, name, definitions[logical_id], description) or not _is_active(description):
                pending[logical_id] = name
        else:
            created.add(logical_id)
            if not _is_active(response["TableDescription"]):
                pending[logical_id] = name
    _wait_active(client, pending)

    for logical_id, name in table_names.items():
        attribute = definitions[logical_id].ttl_attribute
        if attribute is None:
            continue
        if logical_id not in created:
            current = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if current.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}:
                if current.get("AttributeName") != attribute:
                    raise TemplateError(
                        f"table {name} has TTL on {current.get('AttributeName')!r}, the template says {attribute!r}: "
                        "delete the local table (or its data directory) to recreate it"
                    )
                continue
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": attribute, "Enabled": True}
        )


def _enable_stream(
    client: DynamoDBClient, name: str, definition: TableDefinition, description: Mapping[str, Any]
) -> bool:
    """Turn on the stream the template declares on a table made before it declared one; True if it was off."""
    wanted = definition.create_table_kwargs.get("StreamSpecification")
    current = description.get("StreamSpecification") or {}
    if wanted is None or current.get("StreamEnabled"):
        if wanted is not None and current.get("StreamViewType") != wanted["StreamViewType"]:
            raise TemplateError(
                f"table {name} has a {current.get('StreamViewType')} stream, the template says "
                f"{wanted['StreamViewType']}: delete the local table (or its data directory) to recreate it"
            )
        return False
    client.update_table(TableName=name, StreamSpecification=wanted)
    return True


def _is_active(description: Mapping[str, Any]) -> bool:
    indexes = description.get("GlobalSecondaryIndexes", [])
    return description.get("TableStatus") == "ACTIVE" and all(i.get("IndexStatus") == "ACTIVE" for i in indexes)


def _wait_active(client: DynamoDBClient, pending: Mapping[str, str]) -> None:
    # boto3's table_exists waiter sleeps 20 s between polls; local backends are ready within milliseconds.
    deadline = time.monotonic() + _ACTIVE_TIMEOUT_SECONDS
    delay = 0.01
    waiting = set(pending.values())
    while waiting:
        waiting = {name for name in waiting if not _is_active(client.describe_table(TableName=name)["Table"])}
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"tables not ACTIVE after {_ACTIVE_TIMEOUT_SECONDS:.0f} s: {', '.join(sorted(waiting))}")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def _check_existing(name: str, definition: TableDefinition, description: Mapping[str, Any]) -> None:
    expected = definition.create_table_kwargs

    def keys(schema: Any) -> list[tuple[str, str]]:
        return [(element["AttributeName"], element["KeyType"]) for element in schema or []]

    def index_keys(indexes: Any) -> dict[str, list[tuple[str, str]]]:
        return {index["IndexName"]: keys(index["KeySchema"]) for index in indexes or []}

    differences = []
    if keys(description.get("KeySchema")) != keys(expected["KeySchema"]):
        differences.append("key schema")
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if index_keys(description.get(kind)) != index_keys(expected.get(kind)):
            differences.append(kind)
    if differences:
        raise TemplateError(
            f"table {name} already exists with other {' and '.join(differences)} than {definition.logical_id} in "
            f"{TEMPLATE_FILE}: delete the local table (or its data directory) to recreate it"
        )
