"""The checker: the recorded history against the stream's record of what happened and the table's final state."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from products_api.api.idempotency import keyed_write_id
from products_api.core import jsonio
from products_api.core.dynamodb import from_attribute_values
from products_api.products.items import ProductItem
from products_api.products.models import Product, model_lock_sort_key
from products_api.products.responses import ProductResponse

from products_api_local.stress.clients import Entry
from products_api_local.stress.constants import COMPANY, KEPT_CODES
from products_api_local.stress.transports import Answer

# --- the checker --------------------------------------------------------------------------------------------------


@dataclass
class Report:
    entries: list[Entry]
    # (status or "lost", code) -> how many answers
    outcomes: Counter[str]
    faults: Counter[str]
    versions_written: int
    violations: list[str]

    def summary(self) -> str:
        lines = [f"{len(self.entries)} requests, {self.versions_written} versions written", "outcomes:"]
        lines += [f"  {count:6d}  {outcome}" for outcome, count in sorted(self.outcomes.items())]
        lines.append("injected faults:")
        lines += [f"  {count:6d}  {fault}" for fault, count in sorted(self.faults.items())]
        if self.violations:
            lines.append(f"{len(self.violations)} VIOLATIONS:")
            lines += [f"  - {violation}" for violation in self.violations[:50]]
        else:
            lines.append("no violations: every check holds")
        return "\n".join(lines)


def _outcome(entry: Entry) -> str:
    answer = entry.answer
    if answer.status is None:
        return "lost (invocation died after its write)"
    label = f"{answer.status} {answer.code or 'ok'}"
    if answer.header("Idempotent-Replayed") == "true":
        label += " (replayed)"
    return label


def _image(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A stream image (as Lambda is handed it) as Python values."""
    return from_attribute_values(dict(raw))


def _api_view(product: Product) -> Any:
    """A product as the API answers it, canonical (numbers by value, keys sorted)."""
    return json.loads(
        jsonio.canonical(json.loads(ProductResponse.from_product(product).to_json(), parse_float=Decimal))
    )


def _body_view(body: str) -> Any:
    return json.loads(jsonio.canonical(json.loads(body, parse_float=Decimal, parse_int=Decimal)))


def _write_ident(entry: Entry) -> str:
    """What makes requests one write: the same key, product and body (a re-run, a replay); else the request."""
    key = entry.key
    if key is None:
        return f"request {entry.ident}"
    body = entry.request.body
    document = jsonio.parse_object(body.encode() if isinstance(body, str) else json.dumps(body).encode())
    return keyed_write_id(COMPANY, key.strip().lower(), entry.request.product_id, jsonio.canonical(document))


def check(entries: list[Entry], stream_records: list[dict[str, Any]], final_items: list[dict[str, Any]]) -> Report:
    """Every check of the history against DynamoDB's record of it (see the module's docstring)."""
    violations: list[str] = []
    faults = Counter(entry.request.fault or (entry.resend.reason if entry.resend else "none") for entry in entries)
    outcomes = Counter(_outcome(entry) for entry in entries)

    # DynamoDB's record: each product's versions (stream images) in commit order, and the model locks over time
    versions: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    ordered_images: list[dict[str, Any]] = []
    for record in sorted(stream_records, key=lambda r: int(r["dynamodb"]["SequenceNumber"])):
        keys = _image(record["dynamodb"]["Keys"])
        if not str(keys["sk"]).startswith("PRODUCT#"):
            continue
        if "NewImage" not in record["dynamodb"]:
            violations.append(f"product item {keys['sk']} was deleted")
            continue
        image = _image(record["dynamodb"]["NewImage"])
        product_id = str(image["id"])
        version = int(image["version"])
        old = record["dynamodb"].get("OldImage")
        if old is not None and int(_image(old)["version"]) == version:
            continue  # housekeeping (forgetting old write ids), not a write: the stream function skips it too
        if version in versions[product_id]:
            violations.append(f"{product_id} v{version} appears twice in the stream")
        versions[product_id][version] = image
        ordered_images.append(image)

    for product_id, by_version in versions.items():
        expected = list(range(1, max(by_version) + 1))
        if sorted(by_version) != expected:
            violations.append(f"{product_id}: versions {sorted(by_version)} have gaps")

    def state(product_id: str, version: int) -> Any:
        image = versions.get(product_id, {}).get(version)
        return _api_view(ProductItem.model_validate(image).to_product()) if image else None

    # 1. every 200 appears in the history at its version with its body; a write is one version, whoever answered
    made_by: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for product_id, by_version in versions.items():
        for version, image in by_version.items():
            if image.get("writeId") is not None:  # the imports have none
                made_by[str(image["writeId"])].append((product_id, version))
    for ident, made in made_by.items():
        if len(made) > 1:
            violations.append(f"one write applied more than once: {ident} at {sorted(made)}")
    claimed: dict[tuple[str, int], str] = {}
    for entry in entries:
        answer = entry.answer
        if answer.status != 200:
            continue
        body = json.loads(answer.body)
        product_id, version = entry.request.product_id, int(body["version"])
        expected_state = state(product_id, version)
        if expected_state is None:
            violations.append(f"{entry.ident}: 200 at {product_id} v{version}, which the history does not hold")
            continue
        if _body_view(answer.body) != expected_state:
            violations.append(
                f"{entry.ident}: 200 body differs from {product_id} v{version}: {answer.body} vs {expected_state}"
            )
        if answer.header("ETag") != f'"{version}"':
            violations.append(f"{entry.ident}: ETag {answer.header('ETag')} for v{version}")
        body_sent = entry.request.body
        writes = bool(body_sent if isinstance(body_sent, dict) else json.loads(body_sent))
        if not writes or answer.header("Idempotent-Replayed") == "true":
            continue
        ident = _write_ident(entry)
        made_version = version
        if entry.key is not None:
            made = made_by.get(ident, [])
            if not made:
                violations.append(f"{entry.ident}: 200 for a write ({ident}) that made no version")
                continue
            made_version = made[0][1]
            if version < made_version:
                violations.append(f"{entry.ident}: answered v{version}, before its write made v{made_version}")
            elif version > made_version:
                # its write was applied once, earlier (a re-run after a lost record, or botocore retrying a write
                # whose response was lost), and later writes followed: it answers the product as it is now
                outcomes["200 ok, of which: its write recognised after later writes"] += 1
        owner = claimed.setdefault((product_id, made_version), ident)
        if owner != ident:
            violations.append(f"{product_id} v{made_version} answered as two writes: {owner} and {ident}")

    # 2. every version is accounted for: a 200, or a request whose answer was lost after its write
    lost_writes = {_write_ident(entry) for entry in entries if entry.answer.status is None}
    for product_id, by_version in versions.items():
        for version, image in by_version.items():
            if version == 1 or (product_id, version) in claimed:
                continue
            if image.get("writeId") in lost_writes:
                claimed[(product_id, version)] = str(image.get("writeId"))
                continue
            violations.append(f"{product_id} v{version} (write {image.get('writeId')}) was answered to nobody")

    # 3. no refused request left a trace: its write id is on no version (unkeyed ones are caught by 2.)
    refused = {_write_ident(entry) for entry in entries if entry.answer.status and 400 <= entry.answer.status < 500}
    answered = {_write_ident(entry) for entry in entries if entry.answer.status == 200}
    for product_id, by_version in versions.items():
        for version, image in by_version.items():
            if image.get("writeId") in refused - answered - lost_writes:
                violations.append(f"{product_id} v{version} was written by a request answered 4xx")

    # 4. at no version do two products hold one model key; locks match products 1:1 at the end
    holders: dict[str, str] = {}
    current_key: dict[str, str] = {}
    for image in ordered_images:
        product_id, key = str(image["id"]), str(image["modelKey"])
        previous = current_key.get(product_id)
        if previous is not None and holders.get(previous) == product_id:
            del holders[previous]
        holder = holders.get(key)
        if holder is not None and holder != product_id:
            violations.append(f"{product_id} v{image['version']} holds model key {key!r}, held by {holder}")
        holders[key] = product_id
        current_key[product_id] = key
    products = {str(item["id"]): item for item in final_items if str(item["sk"]).startswith("PRODUCT#")}
    locks = {str(item["sk"]): str(item["productId"]) for item in final_items if str(item["sk"]).startswith("MODEL#")}
    expected_locks = {model_lock_sort_key(str(item["modelKey"])): product_id for product_id, item in products.items()}
    if locks != expected_locks:
        violations.append(f"lock items {locks} do not match the products' models {expected_locks}")
    for product_id, item in products.items():
        newest = versions.get(product_id, {})
        if newest and int(item["version"]) != max(newest):
            violations.append(f"{product_id}: table at v{item['version']}, stream at v{max(newest)}")

    # 5. no 5xx beyond injected unavailability
    for entry in entries:
        status = entry.answer.status
        if status is not None and status >= 500 and not (status == 503 and entry.request.fault == "throttle"):
            violations.append(f"{entry.ident}: {status} {entry.answer.code} (fault injected: {entry.request.fault})")
        limited = entry.request.fault == "rate_limited" and entry.request.kind not in {"empty", "invalid"}
        if limited and (status, entry.answer.code) != (429, "rate_limited"):
            # `{}` skips the limiter and an invalid body is refused before it; any other write meets the refusal
            violations.append(f"{entry.ident}: the limiter refused it, yet it answered {status} {entry.answer.code}")
        if entry.request.fault == "conflict" and status == 409 and entry.answer.code == "concurrent_update":
            violations.append(f"{entry.ident}: two conflicts should be retried through, got concurrent_update")

    # 6. replays equal their first answer (kept outcomes only); re-runs after a lost record answer their write
    first: dict[str, Entry] = {}
    for entry in sorted(entries, key=lambda e: e.started):
        status = entry.answer.status
        if entry.key is None or status is None:
            continue
        ident = _write_ident(entry)
        replayed = entry.answer.header("Idempotent-Replayed") == "true"
        if replayed:
            original = first.get(ident)
            if original is None:
                # the original's answer may have been lost; the replay must then be a kept outcome
                if entry.answer.code not in KEPT_CODES:
                    violations.append(f"{entry.ident}: replayed {status} {entry.answer.code}, not a kept outcome")
                continue
            if (original.answer.status, _body_or_code(original.answer)) != (status, _body_or_code(entry.answer)):
                violations.append(f"{entry.ident}: replay {status} differs from first answer {original.ident}")
        elif entry.answer.code in KEPT_CODES:
            first.setdefault(ident, entry)

    return Report(entries, outcomes, faults, sum(len(v) - 1 for v in versions.values()), violations)


def _body_or_code(answer: Answer) -> Any:
    if answer.status == 200:
        return _body_view(answer.body)
    return answer.code
