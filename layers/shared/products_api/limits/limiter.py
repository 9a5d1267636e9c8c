"""The per-company write rate and monthly quota, checked before a write by one conditional counter write.

Fixed one-minute windows aligned on the clock's minutes (UTC): a company may write its rate in each window. At a
window's edge a burst can reach twice the rate within a few seconds (the end of one window and the start of the
next); over any minute it never exceeds twice the rate, over any two aligned minutes never more than twice.

The answer carries the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers):
`RateLimit-Policy: "writes";q=<rate>;w=60` and `RateLimit: "writes";r=<remaining>;t=<seconds to the window's end>`.
The quota is checked in the same call from the month's count the meter keeps on the same item, so it costs nothing
more; it lags the writes by the stream's delay (usually well under a second, more when the stream function is behind).

If the counter write fails for any reason but its condition (throttled, unreachable), the write goes ahead: the
limiter fails open and counts it under the metric RateLimiterFailed.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from products_api.errors import QuotaExceeded, RateLimited
from products_api.limits.store import (
    WINDOW_SECONDS,
    LimiterStoreFailed,
    LimitsStore,
    month_of,
    seconds_to_next_month,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from products_api.core.settings import WriteLimitSettings

POLICY_NAME = "writes"
RATE_LIMITER_FAILED = "RateLimiterFailed"
# How many companies' stale window names a container remembers (to remove them with the company's next write).
_STALE_ENTRIES = 1024

logger = Logger(service="products-api", child=True)


@dataclass(frozen=True)
class RateLimitState:
    """What the answer tells the client about its rate: the RateLimit fields."""

    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Policy": f'"{POLICY_NAME}";q={self.limit};w={WINDOW_SECONDS}',
            "RateLimit": f'"{POLICY_NAME}";r={self.remaining};t={self.reset_seconds}',
        }


class WriteLimiter:
    """One conditional UpdateItem per write when the default rate is above 0; nothing at all when it is 0."""

    def __init__(
        self,
        store: LimitsStore | None,
        default_rate: int,
        add_metric: Callable[[str], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._default_rate = default_rate
        self._add_metric = add_metric
        self._clock = clock
        self._stale: OrderedDict[str, tuple[str, ...]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self._store is not None and self._default_rate > 0

    def admit(self, company_id: str) -> RateLimitState | None:
        """Count one write of the company, or raise RateLimited / QuotaExceeded (nothing counted, nothing written).

        None: nothing to tell the client (the limiter is off, the company's rate is unlimited, or the counter failed).
        """
        if self._store is None or self._default_rate <= 0:
            return None
        now = self._clock()
        window_start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        reset_seconds = max(1, math.ceil(window_start + WINDOW_SECONDS - now))
        month = month_of(datetime.fromtimestamp(now, UTC))
        try:
            admission = self._store.admit(
                company_id, window_start, month, self._default_rate, self._stale.pop(company_id, ())
            )
        except LimiterStoreFailed as exc:
            self._add_metric(RATE_LIMITER_FAILED)
            logger.warning("rate limiter unavailable: the write goes ahead", extra={"reason": str(exc)})
            return None
        if admission.stale_windows:
            self._stale[company_id] = admission.stale_windows
            while len(self._stale) > _STALE_ENTRIES:
                self._stale.popitem(last=False)
        plan = admission.plan
        limit = plan.rate if plan.rate is not None else self._default_rate
        state = RateLimitState(limit, max(0, limit - admission.window_writes), reset_seconds) if limit > 0 else None
        if admission.admitted:
            return state
        headers = state.headers() if state is not None else {}
        if plan.quota is not None and plan.month_writes >= plan.quota:
            raise QuotaExceeded(seconds_to_next_month(now), headers)
        raise RateLimited(reset_seconds, headers)


def build_limiter(
    settings: WriteLimitSettings, client: DynamoDBClient, count_metric: Callable[[str], None]
) -> WriteLimiter:
    """The limiter of a function that writes; without a rate (0) it holds no store and makes no call. Its failures
    are counted with `count_metric` (observability's: into the request's EMF blob).
    """
    store = (
        LimitsStore(client, settings.limits_table_name)
        if settings.write_rate_per_minute > 0 and settings.limits_table_name is not None
        else None
    )
    return WriteLimiter(store, settings.write_rate_per_minute, count_metric)
