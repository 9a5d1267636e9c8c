"""The history checker (local/products_api_local/stress/): concurrent clients in separate processes, faults
injected, every answer checked against the products table's stream, the change history made from it, and the table.

A short run is part of the suite; `make stress` runs it longer and prints the counts of each outcome.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from changes_support import Changes
from products_api_local import stress
from products_api_local.stress import Answer, Entry, Request

# Short enough for the suite on two shared cores; long enough that every kind of request and fault comes up.
PROCESSES = 3
DURATION_SECONDS = 20


@pytest.mark.dynamodb_local
@pytest.mark.parametrize("backend", ["dynamodb_local"], indirect=True)
def test_concurrent_clients_with_faults_leave_a_true_history(
    dynamodb_endpoint_url: str, table_names: dict[str, str], changes: Changes
) -> None:
    setup = stress.prepare(dynamodb_endpoint_url, products=4, models=6, table_names=table_names)
    report = stress.run(setup, PROCESSES, DURATION_SECONDS, seed=10)
    print(report.summary())
    assert report.violations == [], report.summary()
    statuses = Counter(entry.answer.status for entry in report.entries)
    # the mix really ran: writes, refusals, contention given up on, throttling, and invocations lost after a write
    assert statuses[200] > 50 and statuses[400] > 0 and statuses[409] > 0 and statuses[412] > 0
    assert statuses[503] > 0 and statuses[None] > 0
    assert report.faults["lost_record"] > 0 and report.faults["expired_record"] > 0
    # rate-limited requests ran among the others (and, by the checks, left no trace)
    assert report.faults["rate_limited"] > 0 and statuses[429] > 0

    # the stream function, run over the same stream, records exactly the versions the checker accounted for
    changes.deliver()
    stream_versions: dict[str, set[int]] = {}
    for record in stress.stream_records(setup):
        image = record["dynamodb"].get("NewImage", {})
        if image.get("sk", {}).get("S", "").startswith("PRODUCT#"):
            stream_versions.setdefault(image["id"]["S"], set()).add(int(image["version"]["N"]))
    for product_id, versions in stream_versions.items():
        recorded: set[int] = set()
        before: int | None = None
        while True:  # every page of the product's history
            page = changes.history.page(stress.COMPANY, product_id, limit=100, before_version=before)
            recorded.update(entry.version for entry in page.entries)
            if page.next_before_version is None:
                break
            before = page.next_before_version
        # version 1 is the import: the history starts there too, or after it
        assert recorded - {1} == versions - {1}, product_id


def _entry(seq: int, status: int | None, body: dict[str, Any], version: int, key: str | None = None) -> Entry:
    headers = {"Idempotency-Key": key} if key else {}
    answer_body = json.dumps({**_PRODUCT, **body, "version": version})
    return Entry(
        Request(0, seq, "field", _PRODUCT["_id"], body, headers),
        Answer(status, {"ETag": f'"{version}"'} if status == 200 else {}, answer_body if status == 200 else ""),
        float(seq),
        float(seq),
    )


_PRODUCT: dict[str, Any] = {
    "_id": "000000000000000000000001",
    "name": "product 0",
    "model": "M-0",
    "description": None,
    "defaultFieldValues": {},
    "imageUrls": [],
    "status": "active",
    "sourceLocale": "en",
    "createdAt": "2026-05-01T09:00:00.000Z",
    "updatedAt": "2026-05-01T09:00:00.000Z",
}


def _record(sequence: int, version: int, write_id: str, **fields: Any) -> dict[str, Any]:
    image = {
        "pk": {"S": "COMPANY#STRESS"},
        "sk": {"S": f"PRODUCT#{_PRODUCT['_id']}"},
        "id": {"S": _PRODUCT["_id"]},
        "companyId": {"S": "STRESS"},
        "name": {"S": fields.get("name", "product 0")},
        "model": {"S": "M-0"},
        "modelKey": {"S": "m-0"},
        "defaultFieldValues": {"M": {}},
        "imageUrls": {"L": []},
        "status": {"S": "active"},
        "sourceLocale": {"S": "en"},
        "version": {"N": str(version)},
        "createdAt": {"S": _PRODUCT["createdAt"]},
        "updatedAt": {"S": _PRODUCT["updatedAt"]},
        "writeId": {"S": write_id},
    }
    keys = {"pk": image["pk"], "sk": image["sk"]}
    return {"dynamodb": {"SequenceNumber": str(sequence), "Keys": keys, "NewImage": image}}


_LOCKS = [{"pk": "COMPANY#STRESS", "sk": "MODEL#m-0", "productId": _PRODUCT["_id"]}]


def _final(version: int) -> list[dict[str, Any]]:
    return [{"sk": f"PRODUCT#{_PRODUCT['_id']}", "id": _PRODUCT["_id"], "modelKey": "m-0", "version": version}, *_LOCKS]


def test_the_checker_accepts_a_true_history() -> None:
    entries = [_entry(1, 200, {"name": "a"}, 2)]
    report = stress.check(entries, [_record(1, 1, "import"), _record(2, 2, "w", name="a")], _final(2))
    assert report.violations == []


def test_the_checker_finds_a_write_applied_twice() -> None:
    key = "7c1f2d4e-8a9b-4c3d-9e8f-0a1b2c3d4e5f"
    entries = [_entry(1, 200, {"name": "a"}, 2, key), _entry(2, 200, {"name": "a"}, 3, key)]
    records = [_record(1, 1, "import"), _record(2, 2, "w", name="a"), _record(3, 3, "w", name="a")]
    report = stress.check(entries, records, _final(3))
    assert any("more than once" in violation for violation in report.violations), report.violations


def test_the_checker_finds_a_version_nobody_was_answered() -> None:
    entries = [_entry(1, 400, {"name": ""}, 0)]
    report = stress.check(entries, [_record(1, 1, "import"), _record(2, 2, "w", name="")], _final(2))
    assert any("answered to nobody" in violation for violation in report.violations), report.violations


def test_the_checker_finds_an_answer_the_history_does_not_hold() -> None:
    entries = [_entry(1, 200, {"name": "claimed"}, 2)]
    report = stress.check(entries, [_record(1, 1, "import"), _record(2, 2, "w", name="other")], _final(2))
    assert any("body differs" in violation for violation in report.violations), report.violations


def test_the_checker_finds_a_5xx_without_a_fault_and_a_broken_lock() -> None:
    entries = [_entry(1, 500, {"name": "x"}, 0)]
    final = [*_final(1)[:1], {"pk": "COMPANY#STRESS", "sk": "MODEL#m-9", "productId": _PRODUCT["_id"]}]
    report = stress.check(entries, [_record(1, 1, "import")], final)
    assert any("500" in violation for violation in report.violations)
    assert any("lock items" in violation for violation in report.violations)
