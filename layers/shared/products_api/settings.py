"""Configuration: one settings model per function, read once from the environment, failing fast.

Each function asks only for what it uses, so a function is never refused a start for a table it does not touch:
`Settings` is the update function's (and the CLI's), `HistorySettings` the history route's. Both share the DynamoDB
client settings and the credential look-up, under the same environment variable names.
"""

from __future__ import annotations

import functools
from typing import Annotated, TypeVar, overload

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

# DynamoDB (and DynamoDB Local) refuse names outside this pattern; moto does not, so check here.
TableName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")]


class ConfigurationError(RuntimeError):
    """The environment does not hold a usable configuration."""


class ApiSettings(BaseSettings):
    """What every API function needs: the DynamoDB client, the products table and the credential look-up.

    The DynamoDB endpoint is not a setting: boto3 honours AWS_ENDPOINT_URL_DYNAMODB itself.
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    products_table_name: TableName
    credentials_table_name: TableName
    # How long a warm container trusts a credential look-up: this is the revocation delay.
    credential_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    dynamodb_connect_timeout_seconds: float = Field(default=1.0, gt=0)
    dynamodb_read_timeout_seconds: float = Field(default=2.0, gt=0)
    dynamodb_max_attempts: int = Field(default=3, ge=1, le=10)


class Settings(ApiSettings):
    """The update function's settings (PATCH), also read by the CLI."""

    idempotency_table_name: TableName
    idempotency_expiry_seconds: int = Field(default=24 * 60 * 60, ge=60)
    # A rename reads then writes; a concurrent write in between makes it read again, this many times.
    max_rename_attempts: int = Field(default=3, ge=1, le=10)


class HistorySettings(ApiSettings):
    """The history route's settings (GET .../history): no idempotency table, the history table instead."""

    history_table_name: TableName


AnySettings = TypeVar("AnySettings", bound=ApiSettings)


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        variable = str(item["loc"][0]).upper() if item["loc"] else "?"
        problems.append(f"{variable}: {item['msg']}")
    return "invalid configuration: " + "; ".join(problems)


@overload
def load_settings() -> Settings: ...
@overload
def load_settings(model: type[AnySettings]) -> AnySettings: ...
def load_settings(model: type[ApiSettings] = Settings) -> ApiSettings:
    """Read `model` (the update function's by default) from the environment, raising ConfigurationError with every
    problem named.
    """
    try:
        return model()
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc)) from exc


@functools.cache
def get_settings() -> Settings:
    """The update function's settings, read on first use (not at import)."""
    return load_settings(Settings)


@functools.cache
def get_history_settings() -> HistorySettings:
    """The history route's settings, read on first use (not at import)."""
    return load_settings(HistorySettings)
