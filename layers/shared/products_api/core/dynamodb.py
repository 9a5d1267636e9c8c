"""The DynamoDB client and the translation of its failures into domain exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from products_api.errors import InvalidStoredValue, StoreUnavailable

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

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


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
    return {key: _serializer.serialize(value) for key, value in values.items()}


def from_attribute_values(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def plain_int(value: Any) -> int:
    """DynamoDB numbers arrive as Decimal; counters are whole numbers."""
    if isinstance(value, Decimal):
        return int(value)
    return int(value)


@contextmanager
def translated_errors(*, expected: frozenset[str] = frozenset()) -> Iterator[None]:
    """Turn transport failures and overload codes into StoreUnavailable; let `expected` codes through."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in expected:
            raise
        if code in UNAVAILABLE_CODES:
            raise StoreUnavailable(code) from exc
        if code == "ValidationException":
            raise InvalidStoredValue(exc.response.get("Error", {}).get("Message", "")) from exc
        raise
    except (ConnectionError, HTTPClientError) as exc:
        raise StoreUnavailable(type(exc).__name__) from exc
    except BotoCoreError as exc:
        # Read timeouts and endpoint errors surface as BotoCoreError subclasses once retries are spent.
        raise StoreUnavailable(type(exc).__name__) from exc
