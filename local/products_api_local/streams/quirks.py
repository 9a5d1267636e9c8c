"""Where DynamoDB Local's stream records differ from DynamoDB Streams', normalised in this one place.

Every record the runner (and the tests' stream fixture) hands to a function goes through `normalise_record`, so the
function sees what Lambda's DynamoDB event source would give it on AWS. Each quirk, with the AWS behaviour restored
(seen on DynamoDB Local 3.x; moto's records already look like AWS's, and pass through unchanged):

1. An empty map is written as `{}` instead of `{"M": {}}`, wherever it is: a top-level attribute, a value inside a
   map, an element of a list, at any depth. `{}` is no attribute value at all (it names no type), so a deserializer
   (Powertools' `TypeDeserializer`, boto3's) fails on it: Powertools raises `IndexError`. AWS writes `{"M": {}}`.
   Empty lists (`{"L": []}`), empty strings and empty binaries already come through as on AWS.
2. `awsRegion` is `ddblocal`: AWS gives the table's region (the runner's region here).
3. The stream ARN names region `ddblocal` and account `000000000000`: AWS's `eventSourceARN` names the table's
   region and account. The record's `eventSourceARN` is rewritten; the reader keeps calling DynamoDB Local with the
   ARN it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LOCAL_REGION = "ddblocal"
LOCAL_ACCOUNT = "000000000000"
_IMAGES = ("Keys", "NewImage", "OldImage")


def attribute_value(value: Any) -> Any:
    """One attribute value with every empty map, at any depth, written as DynamoDB Streams writes it (quirk 1)."""
    if not isinstance(value, Mapping):
        return value
    if not value:
        return {"M": {}}
    if "M" in value and isinstance(value["M"], Mapping):
        return {**value, "M": {name: attribute_value(item) for name, item in value["M"].items()}}
    if "L" in value and isinstance(value["L"], list):
        return {**value, "L": [attribute_value(item) for item in value["L"]]}
    return dict(value)


def image(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """A Keys, NewImage or OldImage map with quirk 1 undone."""
    return {name: attribute_value(value) for name, value in attributes.items()}


def event_source_arn(arn: str, region: str, account_id: str) -> str:
    """The stream ARN as AWS names it (quirk 3): `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[3] == LOCAL_REGION:
        parts[3] = region
        if parts[4] == LOCAL_ACCOUNT:
            parts[4] = account_id
    return ":".join(parts)


def normalise_record(record: Mapping[str, Any], region: str, account_id: str) -> dict[str, Any]:
    """A Lambda-shaped stream record (`eventSourceARN`, `dynamodb`, ...) with every quirk above undone."""
    normalised = dict(record)
    stream = dict(record.get("dynamodb") or {})
    for name in _IMAGES:
        if isinstance(stream.get(name), Mapping):
            stream[name] = image(stream[name])
    normalised["dynamodb"] = stream
    normalised["awsRegion"] = region  # quirk 2
    if isinstance(record.get("eventSourceARN"), str):
        normalised["eventSourceARN"] = event_source_arn(record["eventSourceARN"], region, account_id)
    return normalised
