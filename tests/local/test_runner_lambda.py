"""What `make serve` promises of Lambda (issue 12), through the running runner: empty maps reach the history without a
traceback, concurrent requests run in containers side by side, a poisoned stream record is dead-lettered while every
other record is processed.

One runner for the module, on a data directory of its own (the dead-letter file is written there).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from local_runner import Banner, Reply, Runner, call, patch, running

pytestmark = pytest.mark.dynamodb_local

COMPANY = "demo-company"
CONCURRENT_CLIENTS = 8
# The products stream's function retries a failing record MaximumRetryAttempts (10) times, 1 s apart, after bisecting.
DEAD_LETTER_TIMEOUT = 60.0
CONSOLE_LINE = re.compile(r"^(PATCH|GET) (\S+) (\d{3}) [\d.]+ ms \((\w+) container (\d+), ")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runner-lambda")


@pytest.fixture(scope="module")
def runner(data_dir: Path) -> Iterator[tuple[Runner, Banner]]:
    with running("--data-dir", str(data_dir)) as started:
        yield started


def history(banner: Banner, product_id: str) -> Reply:
    headers = {"Authorization": f"Bearer {banner.token}"}
    return call(banner.base_url, "GET", f"/api/v1/products/{product_id}/history?limit=100", headers)


def import_products(banner: Banner, products: list[dict[str, Any]], folder: Path) -> list[str]:
    """The products imported with the console script, for the demo company, into the runner's DynamoDB Local."""
    script = shutil.which("products-api", path=str(Path(sys.executable).parent))
    assert script, "the console script is declared in pyproject.toml"
    path = folder / "products.json"
    path.write_text(json.dumps(products))
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{banner.dynamodb_port}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": "eu-west-1",
        "PRODUCTS_TABLE_NAME": "ProductsTable",
        "IDEMPOTENCY_TABLE_NAME": "IdempotencyTable",
        "CREDENTIALS_TABLE_NAME": "CredentialsTable",
    }
    imported = subprocess.run(
        [script, "products", "import", str(path), "--company", COMPANY], env=env, capture_output=True, text=True
    )
    assert imported.returncode == 0, imported.stderr
    return imported.stdout.split()


def test_empty_default_field_values_get_their_full_history_without_a_traceback(
    runner: tuple[Runner, Banner], tmp_path: Path
) -> None:
    process, banner = runner
    first_line = len(process.lines)
    empty, without, valid = import_products(
        banner,
        [
            {"name": "Empty defaults", "model": "EMPTY-1", "defaultFieldValues": {}, "sourceLocale": "en"},
            {"name": "No defaults", "model": "NONE-1", "sourceLocale": "en"},
            {
                "name": "Nested empties",
                "model": "NESTED-1",
                "defaultFieldValues": {"a": {}, "b": []},
                "sourceLocale": "en",
            },
        ],
        tmp_path,
    )
    for product_id in (empty, without, valid):
        process.wait_for_line(rf'^event ProductCreated on .*"changeId":"{COMPANY}/{product_id}/1"', 30)
    # and a patch to an empty map, on a product that had values
    patched = call(
        banner.base_url,
        "PATCH",
        f"/api/v1/products/{valid}",
        {"Authorization": f"Bearer {banner.token}", "Content-Type": "application/json"},
        json.dumps({"defaultFieldValues": {}}).encode(),
    )
    assert patched.status == 200, patched.body
    process.wait_for_line(rf'^event ProductUpdated on .*"changeId":"{COMPANY}/{valid}/2"', 30)

    for product_id, versions in ((empty, [1]), (without, [1]), (valid, [2, 1])):
        reply = history(banner, product_id)
        assert reply.status == 200, reply.body
        assert [entry["version"] for entry in reply.body["items"]] == versions, reply.body
    (update, _) = history(banner, valid).body["items"]
    assert update["changes"] == [
        {"field": "defaultFieldValues", "from": {"a": {}, "b": []}, "to": {}},
    ], update
    console = process.lines[first_line:]
    assert not [line for line in console if "Traceback" in line], "\n".join(console)


def test_concurrent_requests_run_in_containers_side_by_side(runner: tuple[Runner, Banner]) -> None:
    process, banner = runner
    first_line = len(process.lines)
    start = threading.Barrier(CONCURRENT_CLIENTS)
    statuses: list[int] = []

    def client(number: int) -> None:
        start.wait(30)
        statuses.append(patch(banner, {"description": f"side by side {number}"}).status)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CONCURRENT_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert statuses == [200] * CONCURRENT_CLIENTS
    # Released at once, the requests do not queue behind one container: the function's invocations ran in more than
    # one (a lock across invocations, or a single container, would show one number only).
    served = {
        int(found.group(5))
        for line in process.lines[first_line:]
        if (found := CONSOLE_LINE.match(line))
        and found.group(1) == "PATCH"
        and found.group(4) == "UpdateProductFunction"
    }
    assert len(served) > 1, "\n".join(process.lines[first_line:])
    assert any("UpdateProductFunction container" in line and "cold start" in line for line in process.lines), (
        "a container started under load shows its cold start"
    )


def test_a_poisoned_record_is_dead_lettered_and_every_other_record_is_processed(
    runner: tuple[Runner, Banner], data_dir: Path
) -> None:
    process, banner = runner
    client = banner.dynamodb()
    before = patch(banner, {"name": "Before the poison"})
    assert before.status == 200, before.body
    # A product item no API write could produce (no version, no timestamps): the stream's function cannot read it,
    # whatever the retries.
    poison_id = "0badc0de0badc0de0badc0de"
    client.put_item(
        TableName="ProductsTable",
        Item={
            "pk": {"S": f"COMPANY#{COMPANY}"},
            "sk": {"S": f"PRODUCT#{poison_id}"},
            "name": {"S": "poisoned"},
        },
    )
    after = patch(banner, {"name": "After the poison"})
    assert after.status == 200, after.body

    process.wait_for_line(
        r"^ProductsTable stream -> ProductChangesFunction: gave up on 1 record\(s\)", DEAD_LETTER_TIMEOUT
    )
    letters = [json.loads(line) for line in (data_dir / "dead-letters.jsonl").read_text().splitlines()]
    (letter,) = letters
    assert letter["record"]["dynamodb"]["Keys"]["sk"] == {"S": f"PRODUCT#{poison_id}"}
    # the writes before and after it are both processed, in order
    for reply in (before, after):
        change_id = f"{COMPANY}/{banner.product_id}/{reply.body['version']}"
        process.wait_for_line(rf'^event ProductUpdated on .*"changeId":"{change_id}"', 30)
    versions = [entry["version"] for entry in history(banner, banner.product_id).body["items"]]
    assert before.body["version"] in versions and after.body["version"] in versions
    assert sum("gave up on" in line for line in process.lines) == 1, process.output
