"""What Lambda's DynamoDB event source does around a function, as code the local runner and the tests share.

- `stream_sources_from_template`: each AWS::Serverless::Function's `Type: DynamoDB` events (table, batch size,
  filter patterns, whether it reports partial batch failures, whether a failing batch is bisected, how often a batch
  is retried).
- `FilterPattern`: the event filtering Lambda applies before invoking (the subset of the pattern syntax a template
  can use here: literal values, `prefix`, `suffix`, `anything-but`, `exists`; anything else is refused, not ignored).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from products_api_local.template.document import function_events

# Lambda's defaults for a DynamoDB event source when the template leaves them out.
DEFAULT_BATCH_SIZE = 100
DEFAULT_MAXIMUM_RETRY_ATTEMPTS = -1  # retry until the record expires
_OPERATORS = frozenset({"prefix", "suffix", "anything-but", "exists"})


class StreamSourceError(ValueError):
    """template.yaml declares a stream event source the local runner cannot reproduce."""


# --- event filtering -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterPattern:
    """One of FilterCriteria.Filters: a record matches when every field the pattern names matches one of its values."""

    pattern: Mapping[str, Any]

    @classmethod
    def parse(cls, where: str, text: Any) -> FilterPattern:
        if not isinstance(text, str):
            raise StreamSourceError(f"{where}: Pattern must be a literal JSON string, got {text!r}")
        try:
            pattern = json.loads(text)
        except ValueError as exc:
            raise StreamSourceError(f"{where}: Pattern is not JSON: {exc}") from None
        if not isinstance(pattern, dict):
            raise StreamSourceError(f"{where}: Pattern must be a JSON object")
        _check_pattern(where, pattern)
        return cls(pattern)

    def matches(self, record: Mapping[str, Any]) -> bool:
        return _matches(self.pattern, record)


def _check_pattern(where: str, pattern: Mapping[str, Any]) -> None:
    for key, value in pattern.items():
        if isinstance(value, dict):
            _check_pattern(f"{where}.{key}", value)
        elif isinstance(value, list):
            for matcher in value:
                if isinstance(matcher, dict) and (len(matcher) != 1 or next(iter(matcher)) not in _OPERATORS):
                    raise StreamSourceError(
                        f"{where}.{key}: {json.dumps(matcher)} is not supported locally "
                        f"(only literal values and {', '.join(sorted(_OPERATORS))})"
                    )
        else:
            raise StreamSourceError(f"{where}.{key}: a pattern leaf must be a list of values, got {value!r}")


def _matches(pattern: Mapping[str, Any], data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    for key, expected in pattern.items():
        present = key in data
        if isinstance(expected, dict):
            if not present or not _matches(expected, data[key]):
                return False
        elif not any(_leaf_matches(matcher, present, data.get(key)) for matcher in expected):
            return False
    return True


def _leaf_matches(matcher: Any, present: bool, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    if isinstance(matcher, dict):
        ((operator, operand),) = matcher.items()
        if operator == "exists":
            return present is bool(operand)
        if not present:
            return False
        if operator == "prefix":
            return any(isinstance(item, str) and item.startswith(operand) for item in values)
        if operator == "suffix":
            return any(isinstance(item, str) and item.endswith(operand) for item in values)
        excluded = operand if isinstance(operand, list) else [operand]
        return all(item not in excluded for item in values)  # anything-but
    return present and any(item == matcher and type(item) is type(matcher) for item in values)


# --- the template's stream event sources ----------------------------------------------------------------


@dataclass(frozen=True)
class StreamSource:
    function: str  # logical id of the function
    table: str  # logical id of the table whose stream feeds it
    batch_size: int = DEFAULT_BATCH_SIZE
    filters: tuple[FilterPattern, ...] = ()
    reports_item_failures: bool = False
    maximum_retry_attempts: int = DEFAULT_MAXIMUM_RETRY_ATTEMPTS
    bisect_on_error: bool = False

    def selects(self, record: Mapping[str, Any]) -> bool:
        """Whether Lambda would pass the record to the function (no filter: every record)."""
        return not self.filters or any(pattern.matches(record) for pattern in self.filters)


def stream_sources_from_template(template: Mapping[str, Any]) -> list[StreamSource]:
    sources: list[StreamSource] = []
    for event in function_events(template, "DynamoDB"):
        properties = event.properties
        stream = properties.get("Stream")
        target = stream.get("Fn::GetAtt") if isinstance(stream, Mapping) else None
        if isinstance(target, str):
            target = target.split(".", 1)
        if not (isinstance(target, list) and len(target) == 2 and target[1] == "StreamArn"):
            raise StreamSourceError(f"{event.where}: Stream must be !GetAtt <table>.StreamArn to run locally")
        filters = (properties.get("FilterCriteria") or {}).get("Filters") or []
        sources.append(
            StreamSource(
                function=event.function,
                table=str(target[0]),
                batch_size=int(properties.get("BatchSize", DEFAULT_BATCH_SIZE)),
                filters=tuple(
                    FilterPattern.parse(f"{event.where}.FilterCriteria.Filters[{position}]", item.get("Pattern"))
                    for position, item in enumerate(filters)
                ),
                reports_item_failures="ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or []),
                maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS)),
                bisect_on_error=str(properties.get("BisectBatchOnFunctionError", False)).lower() == "true",
            )
        )
    return sources
