"""The DynamoDB client and the translation of its failures into domain exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, DecimalException
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from products_api.core.jsonio import exact_normalise
from products_api.errors import ConcurrentUpdate, InvalidStoredValue, StoreFailure, StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from products_api.core.settings import DynamoDBClientSettings

# Codes DynamoDB returns when it is overloaded or failing: retried by botocore, then a 503 for the client.
UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
    }
)
# Contention, not failure: a transaction holds the item. botocore does not retry it; the update path does.
CONFLICT_CODES = frozenset({"TransactionConflictException"})
# Cancellation reasons of a transaction that mean the same as the codes above.
UNAVAILABLE_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"})
CONFLICT_REASONS = frozenset({"TransactionConflict"})

_MAX_NUMBER_DIGITS = 38


class _ExactDeserializer(TypeDeserializer):
    """boto3's deserializer rounds-traps numbers with more than 38 digits, yet DynamoDB may spell a number it holds
    exactly with more (1E+38 comes back as 39 digits): read every number exactly, trailing zeros dropped if needed.
    """

    def _deserialize_n(self, value: str) -> Decimal:
        return _exact_number(value)


def _exact_number(text: str) -> Decimal:
    number = Decimal(text)
    return exact_normalise(number) if len(number.as_tuple().digits) > _MAX_NUMBER_DIGITS else number


class StoredItem(BaseModel):
    """The base of every item model, as a table stores it (after TypeDeserializer: numbers arrive as Decimal).

    Attribute names are camelCase in the tables: aliases spell them, for reading (validate_by_alias) and writing
    (serialize_by_alias); Python code uses the snake_case names. Attributes a model does not name are ignored.
    """

    model_config = ConfigDict(
        extra="ignore", frozen=True, alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True
    )


_serializer = TypeSerializer()
_deserializer = _ExactDeserializer()


def client_config(connect_timeout: float, read_timeout: float, max_attempts: int) -> Config:
    """Explicit timeouts and total attempts for every AWS client of a function, so a slow service fails within the
    Lambda's time instead of botocore's defaults (60 s reads, legacy retries).
    """
    return Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        tcp_keepalive=True,
    )


def make_client(settings: DynamoDBClientSettings, session: boto3.Session | None = None) -> DynamoDBClient:
    """One client per container: explicit timeouts so a slow DynamoDB fails within the Lambda's time."""
    config = client_config(
        settings.dynamodb_connect_timeout_seconds,
        settings.dynamodb_read_timeout_seconds,
        settings.dynamodb_max_attempts,
    )
    return (session or boto3.Session()).client("dynamodb", config=config)


def to_attribute_values(values: dict[str, Any]) -> dict[str, AttributeValueTypeDef]:
    """Serialised for DynamoDB. Validation keeps numbers DynamoDB cannot hold exactly out; should one slip through,
    boto3's decimal traps (Rounded, Inexact, Overflow, Underflow) become a 400, never a 500.
    """
    try:
        return {key: _serializer.serialize(value) for key, value in values.items()}
    except DecimalException as exc:
        raise InvalidStoredValue(f"a number cannot be stored exactly ({type(exc).__name__})") from exc


def from_attribute_values(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _from_attribute_value(value) for key, value in item.items()}


def _from_attribute_value(value: Any) -> Any:
    """What `_ExactDeserializer().deserialize(value)` returns, with the types an item is made of dispatched here:
    boto3 builds a method name and looks it up for every attribute, nested ones included, of every item read.
    Sets and binary values, which no item of this API holds, are left to boto3.
    """
    for type_code, content in value.items():  # an attribute value has exactly one entry
        if type_code == "S" or type_code == "BOOL":
            return content
        if type_code == "N":
            return _exact_number(content)
        if type_code == "M":
            return {key: _from_attribute_value(item) for key, item in content.items()}
        if type_code == "L":
            return [_from_attribute_value(item) for item in content]
        if type_code == "NULL":
            return None
        break
    return _deserializer.deserialize(value)


def plain_int(value: Any) -> int:
    """DynamoDB numbers arrive as Decimal; counters are whole numbers."""
    return int(value)


@contextmanager
def translated_errors(*, expected: frozenset[str] = frozenset()) -> Iterator[None]:
    """Turn every DynamoDB failure into a domain exception; only `expected` codes (a failed condition, a cancelled
    transaction, which the caller reads itself) pass through as ClientError.

    Transport failures and overload codes: StoreUnavailable (503). A transaction holding the item: ConcurrentUpdate
    (retried). A value DynamoDB refuses: InvalidStoredValue (400). Anything else (access denied, missing table, ...)
    means nothing to the client: StoreFailure (500). None of them is ever read as "not found".
    """
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in expected:
            raise
        if code in UNAVAILABLE_CODES:
            raise StoreUnavailable(code) from exc
        if code in CONFLICT_CODES:
            raise ConcurrentUpdate(code) from exc
        if code == "ValidationException":
            raise InvalidStoredValue(exc.response.get("Error", {}).get("Message", "")) from exc
        raise StoreFailure(code or "unknown DynamoDB error") from exc
    except (ConnectionError, HTTPClientError) as exc:
        raise StoreUnavailable(type(exc).__name__) from exc
    except BotoCoreError as exc:
        # Read timeouts and endpoint errors surface as BotoCoreError subclasses once retries are spent.
        raise StoreUnavailable(type(exc).__name__) from exc


def update_if(
    client: DynamoDBClient,
    table_name: str,
    key: dict[str, Any],
    expression: str,
    names: dict[str, str],
    values: dict[str, Any],
    conditions: list[str],
) -> dict[str, Any]:
    """One UpdateItem applied only while every one of `conditions` holds, answering the item as written (plain
    values). A failed condition passes through as its ClientError, which carries the item as it was (`failed_item`):
    the caller tells its cases apart from that image without a read. Every other failure is translated.
    """
    with translated_errors(expected=frozenset({"ConditionalCheckFailedException"})):
        response = client.update_item(
            TableName=table_name,
            Key=key,
            UpdateExpression=expression,
            ConditionExpression=" AND ".join(conditions),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_attribute_values(values),
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    return from_attribute_values(response["Attributes"])


def failed_item(exc: ClientError) -> dict[str, Any] | None:
    """The item as it was when a conditional write's condition failed (ALL_OLD, plain values); None: there was none."""
    old: dict[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
    return from_attribute_values(old) if old else None


def put_new(client: DynamoDBClient, table_name: str, item: StoredItem, key_attribute: str) -> None:
    """PutItem of a new item (its attributes that have a value): refused rather than overwriting an item whose
    `key_attribute` exists (the failed condition becomes a StoreFailure: new keys never collide).
    """
    with translated_errors():
        client.put_item(
            TableName=table_name,
            Item=to_attribute_values(item.model_dump(exclude_none=True)),
            ConditionExpression=f"attribute_not_exists(#{key_attribute})",
            ExpressionAttributeNames={f"#{key_attribute}": key_attribute},
        )
