"""GET /api/v1/usage: the company's metered writes this month, its monthly quota and its write rate."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from products_api.api.runtime import RouteRuntime
from products_api.core import jsonio
from products_api.core.dynamodb import make_client
from products_api.core.settings import UsageSettings, read_settings
from products_api.limits.store import WINDOW_SECONDS, LimitsStore, month_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class RateResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    limit: int = Field(description="Writes admitted per window.")
    window_seconds: int = Field(
        alias="windowSeconds", description="The window, in seconds (fixed, aligned on minutes)."
    )


class UsageResponse(BaseModel):
    """The 200 body of GET /api/v1/usage."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    month: str = Field(description="The calendar month (UTC) counted, `YYYY-MM`.")
    writes: int = Field(description="Applied writes (new versions) of the caller's company this month.")
    quota: int | None = Field(description="The company's monthly write quota; `null`: none.")
    rate: RateResponse | None = Field(description="The company's write rate; `null`: not limited.")

    def to_json(self) -> str:
        return jsonio.dumps(self.model_dump(by_alias=True))


class UsageReader:
    def __init__(self, store: LimitsStore, default_rate: int, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._default_rate = default_rate
        self._clock = clock

    def usage(self, company_id: str) -> UsageResponse:
        """One strongly consistent GetItem of the company's item."""
        month = month_of(datetime.fromtimestamp(self._clock(), UTC))
        plan = self._store.plan(company_id, month)
        # the limiter is off altogether at a default rate of 0; a company's own 0 is unlimited
        limit = (plan.rate if plan.rate is not None else self._default_rate) if self._default_rate > 0 else 0
        return UsageResponse(
            month=month,
            writes=plan.month_writes,
            quota=plan.quota if self._default_rate > 0 else None,
            rate=RateResponse(limit=limit, window_seconds=WINDOW_SECONDS) if limit > 0 else None,
        )


class UsageRuntime(RouteRuntime[UsageSettings, UsageReader]):
    @classmethod
    def build(cls, settings: UsageSettings, client: DynamoDBClient) -> UsageRuntime:
        reader = UsageReader(LimitsStore(client, settings.limits_table_name), settings.write_rate_per_minute)
        return cls.wire(settings, client, reader)


@functools.cache
def get_usage_runtime() -> UsageRuntime:
    """Built on the first request of a container, then reused."""
    settings = read_settings(UsageSettings)
    return UsageRuntime.build(settings, make_client(settings))
