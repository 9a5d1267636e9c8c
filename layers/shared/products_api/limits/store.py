"""The limits table: each company's plan, its write-rate windows and its metered writes, and the meter's markers.

One item per company (`pk = company#<id>`) holds everything the limiter needs, so one conditional UpdateItem both
counts a write against the rate and checks the monthly quota:

- `writeRate` (optional): the company's own writes per minute (0: unlimited); without it the default applies;
- `monthlyQuota` (optional): the company's writes per calendar month (UTC); without it there is none;
- `w#<window start, epoch seconds>`: the writes admitted in that fixed one-minute window;
- `m#<YYYY-MM>`: the writes of that month, counted from the products table's stream (the meter).

A marker item per metered product version (`pk = metered#<company>#<product>#<version>`) makes the count exactly
once under redelivery; it expires (`expiresAt`) long after the stream could redeliver its record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from products_api.core.dynamodb import from_attribute_values, plain_int, to_attribute_values, translated_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

WINDOW_SECONDS = 60
RATE_ATTRIBUTE = "writeRate"
QUOTA_ATTRIBUTE = "monthlyQuota"
WINDOW_PREFIX = "w#"
MONTH_PREFIX = "m#"
# A stream record is redelivered for at most 24 hours (the stream's retention); markers outlive that by far.
MARKER_LIFETIME_SECONDS = 40 * 24 * 60 * 60


def company_key(company_id: str) -> str:
    return f"company#{company_id}"


def month_of(moment: datetime) -> str:
    """The calendar month (UTC) a write counts in, as `YYYY-MM`."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def seconds_to_next_month(now: float) -> int:
    moment = datetime.fromtimestamp(now, UTC)
    following = datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC)
    return max(1, math.ceil(following.timestamp() - now))


@dataclass(frozen=True)
class Plan:
    """A company's limits and this month's metered writes, as stored."""

    rate: int | None  # None: the default rate
    quota: int | None  # None: no quota
    month_writes: int

    @classmethod
    def from_item(cls, item: dict[str, Any], month: str) -> Plan:
        rate = item.get(RATE_ATTRIBUTE)
        quota = item.get(QUOTA_ATTRIBUTE)
        return cls(
            rate=plain_int(rate) if rate is not None else None,
            quota=plain_int(quota) if quota is not None else None,
            month_writes=plain_int(item.get(MONTH_PREFIX + month, 0)),
        )


@dataclass(frozen=True)
class Admission:
    """The counter item after (admitted) or before (refused) the limiter's write."""

    admitted: bool
    window_writes: int
    plan: Plan
    # every window attribute the item holds but the current one: removed by the next write
    stale_windows: tuple[str, ...]


class LimiterStoreFailed(RuntimeError):
    """The counter write failed for another reason than its condition: the limiter fails open."""


class LimitsStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def admit(
        self, company_id: str, window_start: int, month: str, default_rate: int, stale_windows: tuple[str, ...]
    ) -> Admission:
        """Count one write in the window unless the rate or the quota is reached: one UpdateItem.

        Raises LimiterStoreFailed for anything but a failed condition.
        """
        window = f"{WINDOW_PREFIX}{window_start}"
        names = {
            "#window": window,
            "#rate": RATE_ATTRIBUTE,
            "#quota": QUOTA_ATTRIBUTE,
            "#month": MONTH_PREFIX + month,
        }
        update = "ADD #window :one"
        removed = [name for name in stale_windows if name != window]
        if removed:
            placeholders = [f"#stale{index}" for index in range(len(removed))]
            names.update(zip(placeholders, removed, strict=True))
            update += " REMOVE " + ", ".join(placeholders)
        condition = " AND ".join(
            [
                # the default rate when the company has none of its own: fewer writes than it in this window
                "((attribute_not_exists(#rate) AND (attribute_not_exists(#window) OR #window < :defaultRate))"
                # the company's own rate: 0 is unlimited, otherwise fewer writes than it in this window
                " OR (attribute_exists(#rate)"
                " AND (#rate = :zero OR attribute_not_exists(#window) OR #window < #rate)))",
                # no quota, or this month's metered writes below it
                "(attribute_not_exists(#quota)"
                " OR (attribute_not_exists(#month) AND #quota > :zero) OR #month < #quota)",
            ]
        )
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_attribute_values({"pk": company_key(company_id)}),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_attribute_values({":one": 1, ":zero": 0, ":defaultRate": default_rate}),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise LimiterStoreFailed(exc.response.get("Error", {}).get("Code", "?")) from exc
            # ALL_OLD: the item as the condition saw it (none yet: empty)
            old = from_attribute_values(cast("dict[str, Any]", exc.response.get("Item") or {}))
            return self._admission(False, old, window, month)
        except BotoCoreError as exc:
            raise LimiterStoreFailed(type(exc).__name__) from exc
        return self._admission(True, from_attribute_values(response.get("Attributes") or {}), window, month)

    @staticmethod
    def _admission(admitted: bool, item: dict[str, Any], window: str, month: str) -> Admission:
        return Admission(
            admitted=admitted,
            window_writes=plain_int(item.get(window, 0)),
            plan=Plan.from_item(item, month),
            stale_windows=tuple(name for name in item if name.startswith(WINDOW_PREFIX) and name != window),
        )

    def plan(self, company_id: str, month: str) -> Plan:
        """The company's plan and the month's metered writes (a strongly consistent read: GET /api/v1/usage)."""
        with translated_errors():
            response = self._client.get_item(
                TableName=self._table,
                Key=to_attribute_values({"pk": company_key(company_id)}),
                ConsistentRead=True,
                ProjectionExpression="#rate, #quota, #month",
                ExpressionAttributeNames={
                    "#rate": RATE_ATTRIBUTE,
                    "#quota": QUOTA_ATTRIBUTE,
                    "#month": MONTH_PREFIX + month,
                },
            )
        return Plan.from_item(from_attribute_values(response.get("Item") or {}), month)

    def set_plan(
        self, company_id: str, rate: int | None, quota: int | None, clear_rate: bool, clear_quota: bool
    ) -> Plan:
        """An operator's change of a company's plan (the CLI): set or remove the rate and the quota, keep the counts."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets: list[str] = []
        removes: list[str] = []
        for attribute, value, clear, placeholder in (
            (RATE_ATTRIBUTE, rate, clear_rate, "rate"),
            (QUOTA_ATTRIBUTE, quota, clear_quota, "quota"),
        ):
            if clear:
                names[f"#{placeholder}"] = attribute
                removes.append(f"#{placeholder}")
            elif value is not None:
                names[f"#{placeholder}"] = attribute
                values[f":{placeholder}"] = value
                sets.append(f"#{placeholder} = :{placeholder}")
        month = month_of(datetime.now(UTC))
        if not names:
            return self.plan(company_id, month)
        update = " ".join(
            part
            for part in ("SET " + ", ".join(sets) if sets else "", "REMOVE " + ", ".join(removes) if removes else "")
            if part
        )
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_attribute_values({"pk": company_key(company_id)}),
            "UpdateExpression": update,
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
        }
        if values:
            request["ExpressionAttributeValues"] = to_attribute_values(values)
        with translated_errors():
            response = self._client.update_item(**request)
        return Plan.from_item(from_attribute_values(response.get("Attributes") or {}), month)

    def meter(self, company_id: str, product_id: str, version: int, month: str, now: float) -> bool:
        """Count one applied write in its month, once: a marker for the version and the month's ADD, in one
        TransactWriteItems. False when the version was counted before (a redelivered record).
        """
        marker = {
            "pk": f"metered#{company_id}#{product_id}#{version}",
            "expiresAt": int(now) + MARKER_LIFETIME_SECONDS,
        }
        try:
            with translated_errors(expected=frozenset({"TransactionCanceledException"})):
                self._client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": to_attribute_values(marker),
                                # this version was not counted yet
                                "ConditionExpression": "attribute_not_exists(#pk)",
                                "ExpressionAttributeNames": {"#pk": "pk"},
                            }
                        },
                        {
                            "Update": {
                                "TableName": self._table,
                                "Key": to_attribute_values({"pk": company_key(company_id)}),
                                "UpdateExpression": "ADD #month :one",
                                "ExpressionAttributeNames": {"#month": MONTH_PREFIX + month},
                                "ExpressionAttributeValues": to_attribute_values({":one": 1}),
                            }
                        },
                    ]
                )
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise
        return True
