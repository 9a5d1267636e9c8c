"""Configuration: one settings model per function, each read once from the environment, failing fast.

Each function asks only for what it uses, so a function is never refused a start for a table it does not touch:
`Settings` is the update function's (and the CLI's), `HistorySettings` the history route's, `ChangesSettings` the
stream function's. What they share (the DynamoDB client; for the API functions the credential look-up and metrics)
lives in common bases, under the same environment variable names. Each function reads its model once, on its first
request, when its cached runtime getter (`get_runtime`, `get_history_runtime`, ...) builds the runtime.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# DynamoDB (and DynamoDB Local) refuse names outside this pattern; moto does not, so check here.
TableName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")]
# EventBridge's rule for event bus names (a name, not an ARN: the function publishes to a bus of its own account).
EventBusName = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,256}$")]


class ConfigurationError(RuntimeError):
    """The environment does not hold a usable configuration."""


class DynamoDBClientSettings(BaseSettings):
    """How a function talks to DynamoDB; every function's settings start from these.

    The DynamoDB endpoint is not a setting: boto3 honours AWS_ENDPOINT_URL_DYNAMODB itself.
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    dynamodb_connect_timeout_seconds: float = Field(default=1.0, gt=0)
    dynamodb_read_timeout_seconds: float = Field(default=2.0, gt=0)
    dynamodb_max_attempts: int = Field(default=3, ge=1, le=10)


class ApiSettings(DynamoDBClientSettings):
    """What every HTTP function needs: the products table, the credential look-up and its metrics."""

    products_table_name: TableName
    credentials_table_name: TableName
    # How long a warm container trusts a credential look-up: this is the revocation delay.
    credential_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    # CloudWatch metrics: the namespace under Powertools' own variable (the template sets it); the environment is a
    # metric dimension that keeps two stacks in one account apart (the template passes the stack name).
    metrics_namespace: str = Field(
        default="ProductsApi",
        min_length=1,
        max_length=255,
        validation_alias="POWERTOOLS_METRICS_NAMESPACE",
    )
    environment_name: str = Field(default="local", min_length=1, max_length=128)
    # Powertools' own variable: the Logger's `service` key, and the metrics' `service` dimension when set.
    service_name: str | None = Field(default=None, min_length=1, validation_alias="POWERTOOLS_SERVICE_NAME")


class WriteLimitSettings(BaseSettings):
    """What the functions that write need for the per-company write rate (products_api.limits)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    # Writes per company per minute unless the company's plan says otherwise; 0 turns the limiter off (no call).
    write_rate_per_minute: int = Field(default=0, ge=0, le=1_000_000)
    # The limits table (plans, rate windows, monthly counts); needed when the rate is above 0.
    limits_table_name: TableName | None = None

    @model_validator(mode="after")
    def _limits_table_when_limited(self) -> WriteLimitSettings:
        if self.write_rate_per_minute > 0 and self.limits_table_name is None:
            raise ValueError("LIMITS_TABLE_NAME is required when WRITE_RATE_PER_MINUTE is above 0")
        return self


class IdempotencySettings(BaseSettings):
    """What the functions whose writes take an Idempotency-Key need: where the records go, and how long they last."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    idempotency_table_name: TableName
    idempotency_expiry_seconds: int = Field(default=24 * 60 * 60, ge=60)


class Settings(ApiSettings, WriteLimitSettings, IdempotencySettings):
    """The update function's settings (PATCH), also read by the CLI."""

    # Contention (another request holding or moving the product) is retried with backoff until this long before the
    # function's time ends: room for the last attempt and the answer.
    contention_margin_ms: int = Field(default=2000, ge=0, le=60_000)


class HistorySettings(ApiSettings):
    """The history route's settings (GET .../history): no idempotency table, the history table instead."""

    # Built when read, not at import: every function imports this module, one function reads each model.
    model_config = SettingsConfigDict(defer_build=True)

    history_table_name: TableName


class ReadSettings(ApiSettings):
    """The read routes' settings (GET /api/v1/products, GET /api/v1/products/{id}): products and credentials."""

    model_config = SettingsConfigDict(defer_build=True)


class UsageSettings(ApiSettings):
    """The usage route's settings (GET /api/v1/usage): the limits table and the default rate it reports."""

    model_config = SettingsConfigDict(defer_build=True)

    limits_table_name: TableName
    write_rate_per_minute: int = Field(default=0, ge=0, le=1_000_000)


class ChangesSettings(DynamoDBClientSettings):
    """The stream function's settings (ProductChangesFunction): where history goes and where events are published.

    The EventBridge endpoint is not a setting either: boto3 honours AWS_ENDPOINT_URL_EVENTBRIDGE (the runner sets it).
    """

    model_config = SettingsConfigDict(defer_build=True)

    history_table_name: TableName
    # where the meter counts each applied write per company and month
    limits_table_name: TableName
    event_bus_name: EventBusName
    events_connect_timeout_seconds: float = Field(default=1.0, gt=0)
    events_read_timeout_seconds: float = Field(default=2.0, gt=0)
    events_max_attempts: int = Field(default=3, ge=1, le=10)


SettingsModel = TypeVar("SettingsModel", bound=DynamoDBClientSettings)


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        variable = str(item["loc"][0]).upper() if item["loc"] else "?"
        problems.append(f"{variable}: {item['msg']}")
    return "invalid configuration: " + "; ".join(problems)


def read_settings(model: type[SettingsModel]) -> SettingsModel:
    """Read one function's settings from the environment, raising ConfigurationError with every problem named."""
    try:
        return model()
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc)) from exc


def load_settings() -> Settings:
    """The update function's settings, read now."""
    return read_settings(Settings)
