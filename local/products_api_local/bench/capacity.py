"""DynamoDB capacity of the handler's own calls: what DynamoDB Local reports, and what AWS would bill.

DynamoDB Local answers ReturnConsumedCapacity=TOTAL correctly for single-item reads and writes, but it reports 2.0 for
a transaction of three small items (AWS bills 2 WRU per item and KB: 6) and nothing for a write whose condition
failed (AWS still bills it). So each call is billed here by AWS's published rules, from the sizes of the items it
touched, and DynamoDB Local's own figure is printed next to it as a cross-check.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
_CAPACITY_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"})


def _number_size(text: str) -> int:
    # AWS: "approximately (number of significant digits / 2) + 1 bytes"
    digits = Decimal(text).normalize().as_tuple().digits
    return math.ceil(len(digits) / 2) + 1


def attribute_size(value: Mapping[str, Any]) -> int:
    """The size DynamoDB bills for one attribute value (typed JSON), by its documented rules."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(str(content).encode("utf-8"))
    if kind == "N":
        return _number_size(str(content))
    if kind == "B":
        return len(content)
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind in {"SS", "BS"}:
        return sum(len(item if isinstance(item, bytes) else str(item).encode("utf-8")) for item in content)
    if kind == "NS":
        return sum(_number_size(str(item)) for item in content)
    if kind == "L":
        # 3 bytes per list, 1 per element
        return 3 + sum(1 + attribute_size(item) for item in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + attribute_size(item) for name, item in content.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(len(name.encode("utf-8")) + attribute_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


@dataclass
class CallCapacity:
    operation: str
    failed_condition: bool
    read_units: float
    write_units: float
    # what DynamoDB Local said (None: it said nothing)
    reported: float | None


@dataclass
class CapacityLog:
    calls: list[CallCapacity] = field(default_factory=list)

    @property
    def read_units(self) -> float:
        return sum(call.read_units for call in self.calls)

    @property
    def write_units(self) -> float:
        return sum(call.write_units for call in self.calls)

    @property
    def reported(self) -> float:
        return sum(call.reported or 0.0 for call in self.calls)


class CapacityMeter:
    """Adds ReturnConsumedCapacity=TOTAL to every call of one client and bills each call by AWS's rules.

    Item sizes come from the items themselves: GetItem's answer, ALL_NEW/ALL_OLD images, the items put. An update
    whose answer is not asked for (Powertools completing its record) is billed from a read of the item afterwards.
    """

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._log: CapacityLog | None = None
        # the meter's own reads (item sizes) must not be metered themselves
        self._own_call = False

    @contextmanager
    def measuring(self) -> Iterator[CapacityLog]:
        log = CapacityLog()
        self._log = log
        self._pending = []
        events = self._client.meta.events
        events.register("provide-client-params.dynamodb", self._ask_for_capacity, unique_id="bench-capacity-ask")
        events.register("after-call.dynamodb", self._record, unique_id="bench-capacity-record")
        try:
            yield log
        finally:
            events.unregister("provide-client-params.dynamodb", unique_id="bench-capacity-ask")
            events.unregister("after-call.dynamodb", unique_id="bench-capacity-record")
            self._log = None

    def _ask_for_capacity(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in _CAPACITY_OPERATIONS and not self._own_call:
            params["ReturnConsumedCapacity"] = "TOTAL"
            self._pending.append((model.name, dict(params)))

    def _record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name not in _CAPACITY_OPERATIONS or self._log is None or self._own_call:
            return
        operation, params = self._pending.pop(0) if self._pending else (model.name, {})
        failed = parsed.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
        reported_raw = parsed.get("ConsumedCapacity")
        reported: float | None = None
        if isinstance(reported_raw, dict):
            reported = float(reported_raw.get("CapacityUnits", 0.0))
        elif isinstance(reported_raw, list):
            reported = sum(float(entry.get("CapacityUnits", 0.0)) for entry in reported_raw)
        reads, writes = self._bill(operation, params, parsed)
        self._log.calls.append(CallCapacity(operation, failed, reads, writes, reported))

    def _bill(self, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> tuple[float, float]:
        if operation == "GetItem":
            size = item_size(parsed.get("Item", {}))
            return read_units(size, consistent=bool(params.get("ConsistentRead"))), 0.0
        if operation == "PutItem":
            # a failed condition is billed on the larger of the stored item (ALL_OLD) and the one sent
            size = max(item_size(params.get("Item", {})), item_size(parsed.get("Item", {})))
            return 0.0, float(write_units(size))
        if operation in {"UpdateItem", "DeleteItem"}:
            image = parsed.get("Attributes") or parsed.get("Item")
            size = item_size(image) if image else self._stored_size(params)
            return 0.0, float(write_units(size))
        # TransactWriteItems: 2 WRU per item and KB (prepare and commit)
        total = 0
        for entry in params.get("TransactItems", []):
            ((action, body),) = entry.items()
            size = item_size(body["Item"]) if action == "Put" else self._stored_size(body)
            total += 2 * write_units(size)
        return 0.0, float(total)

    def _stored_size(self, params: Mapping[str, Any]) -> int:
        """The item's size as it is now (after an update; before a delete, whose item is gone: then its key)."""
        self._own_call = True
        try:
            response = self._client.get_item(TableName=params["TableName"], Key=params["Key"], ConsistentRead=True)
        finally:
            self._own_call = False
        item = response.get("Item")
        return item_size(item) if item else item_size(params["Key"])
