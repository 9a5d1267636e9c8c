"""Configuration: one settings model, read once from the environment, failing fast."""

from __future__ import annotations

import functools
from typing import Annotated

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

# DynamoDB (and DynamoDB Local) refuse names outside this pattern; moto does not, so check here.
TableName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")]


class ConfigurationError(RuntimeError):
    """The environment does not hold a usable configuration."""


class Settings(BaseSettings):
    """Every setting of the functions and of the CLI, under the same environment variable names.

    The DynamoDB endpoint is not a setting: boto3 honours AWS_ENDPOINT_URL_DYNAMODB itself.
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    products_table_name: TableName
    idempotency_table_name: TableName
    credentials_table_name: TableName
    # How long a warm container trusts a credential look-up: this is the revocation delay.
    credential_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    idempotency_expiry_seconds: int = Field(default=24 * 60 * 60, ge=60)
    # A rename reads then writes; a concurrent write in between makes it read again, this many times.
    max_rename_attempts: int = Field(default=3, ge=1, le=10)
    dynamodb_connect_timeout_seconds: float = Field(default=1.0, gt=0)
    dynamodb_read_timeout_seconds: float = Field(default=2.0, gt=0)
    dynamodb_max_attempts: int = Field(default=3, ge=1, le=10)
    # CloudWatch metrics: the namespace under Powertools' own variable (the template sets it); the environment is a
    # metric dimension that keeps two stacks in one account apart (the template passes the stack name).
    metrics_namespace: str = Field(
        default="ProductsApi",
        min_length=1,
        max_length=255,
        validation_alias="POWERTOOLS_METRICS_NAMESPACE",
    )
    environment_name: str = Field(default="local", min_length=1, max_length=128)


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        variable = str(item["loc"][0]).upper() if item["loc"] else "?"
        problems.append(f"{variable}: {item['msg']}")
    return "invalid configuration: " + "; ".join(problems)


def load_settings() -> Settings:
    """Read the settings from the environment, raising ConfigurationError with every problem named."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc)) from exc


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, read on first use (not at import)."""
    return load_settings()
