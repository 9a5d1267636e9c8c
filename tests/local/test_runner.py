"""`python -m products_api_local.runner` (what `make serve` runs), over real HTTP, on DynamoDB Local.

The examples of the project's API reference (docs/api.md: Python requests, JavaScript fetch) run against it as
written, with only the base URL, the demo product, its ETag and the key it printed filled in.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from local_runner import Banner, Reply, Runner, call, patch, running
from support import ROOT

pytestmark = pytest.mark.dynamodb_local

# The API reference whose PATCH examples must work as written; they name this product and version.
API_REFERENCE = ROOT / "docs" / "api.md"
DOCS_PRODUCT_ID = "6650a1b2c3d4e5f6a7b8c9d0"
DOCS_IF_MATCH = "'\"3\"'"
NEW_NAME = "Li-Ion 48V Battery Pack (revised)"
NEW_IMAGES = ["https://cdn.example.com/new-hero.jpg"]


def docs_snippet(language: str, banner: Banner) -> str:
    """The first `language` example of the API reference (the PATCH's), aimed at the runner's demo product at its
    current version (the example's If-Match names version 3)."""
    found = re.search(
        rf"^```{language}\n(.*?)^```", API_REFERENCE.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL
    )
    assert found, f"no {language} example in {API_REFERENCE}"
    snippet = found.group(1)
    assert DOCS_PRODUCT_ID in snippet and DOCS_IF_MATCH in snippet, snippet
    current = call(
        banner.base_url, "GET", f"/api/v1/products/{banner.product_id}", {"Authorization": f"Bearer {banner.token}"}
    )
    assert current.status == 200, current
    etag = current.headers["etag"]
    return snippet.replace(DOCS_PRODUCT_ID, banner.product_id).replace(DOCS_IF_MATCH, repr(etag))


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runner, Banner]]:
    with running("--data-dir", str(tmp_path_factory.mktemp("runner-data"))) as started:
        yield started


# --- the docs' examples, as written ---------------------------------------------------------------


def test_printed_curl_works_as_pasted(runner: tuple[Runner, Banner]) -> None:
    process, banner = runner
    assert banner.seeded
    assert banner.curl.startswith(f"curl -sS -X PATCH \\\n  {banner.base_url}/api/v1/products/{banner.product_id}")
    if shutil.which("curl") is None:
        pytest.skip("the curl binary is not installed")
    result = subprocess.run(["bash", "-c", banner.curl], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["_id"] == banner.product_id, body
    assert (body["name"], body["imageUrls"]) == (NEW_NAME, NEW_IMAGES)
    assert body["model"] == "LI-48V-20AH"
    # One log line per request: method, path, status, duration.
    process.wait_for_line(
        rf"^PATCH /api/v1/products/{banner.product_id} 200 \d+\.\d ms \(\w+Function container \d+, [^)]*\)$", 10
    )


def test_docs_python_requests_example(runner: tuple[Runner, Banner]) -> None:
    _, banner = runner
    snippet = docs_snippet("python", banner)
    program = (
        f"base_url = {banner.base_url!r}\ntoken = {banner.token!r}\n{snippet}\n"
        "print(response.status_code, json.dumps(product), etag)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import json\n" + program], capture_output=True, text=True, timeout=60, check=False
    )
    # raise_for_status() in the example would have failed the program on an error status.
    assert result.returncode == 0, result.stdout + result.stderr
    status, _, rest = result.stdout.strip().partition(" ")
    body, _, etag = rest.rpartition(" ")
    assert status == "200"
    assert json.loads(body)["name"] == NEW_NAME
    assert etag == f'"{json.loads(body)["version"]}"'


def test_docs_javascript_fetch_example(runner: tuple[Runner, Banner]) -> None:
    _, banner = runner
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    snippet = docs_snippet("js", banner)
    program = (
        f"const baseUrl = {json.dumps(banner.base_url)};\nconst token = {json.dumps(banner.token)};\n{snippet}\n"
        "console.log(JSON.stringify({ status: response.status, body, etag }));\n"
    )
    result = subprocess.run(
        [node, "--input-type=module", "-e", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == 200, outcome
    assert outcome["body"]["status"] == "archived"
    assert outcome["etag"] == f'"{outcome["body"]["version"]}"'
    # back to active, for the tests after this one
    reply = patch(banner, {"status": "active"})
    assert reply.status == 200, reply


# --- the history route -------------------------------------------------------------------------------------


def get_history(banner: Banner, query: str = "", token: str | None = None) -> Reply:
    headers = {"Authorization": f"Bearer {token or banner.token}"}
    return call(banner.base_url, "GET", f"/api/v1/products/{banner.product_id}/history{query}", headers)


def test_history_route_is_served_with_the_demo_key(runner: tuple[Runner, Banner]) -> None:
    process, banner = runner
    reply = get_history(banner, "?limit=5")
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-store"
    assert set(reply.body) == {"items", "nextCursor"}
    assert isinstance(reply.body["items"], list)
    process.wait_for_line(
        rf"^GET /api/v1/products/{banner.product_id}/history\?limit=5 200 \d+\.\d ms"
        rf" \(\w+Function container \d+, [^)]*\)$",
        10,
    )
    refused = get_history(banner, "?limit=0")
    assert (refused.status, refused.body["code"]) == (400, "validation_error")
    assert call(banner.base_url, "GET", f"/api/v1/products/{banner.product_id}/history", {}).status == 401
    missing = call(
        banner.base_url,
        "GET",
        "/api/v1/products/dddddddddddddddddddddddd/history",
        {"Authorization": f"Bearer {banner.token}"},
    )
    assert (missing.status, missing.body["code"]) == (404, "not_found")


def test_printed_history_curl_works_as_pasted(runner: tuple[Runner, Banner]) -> None:
    process, banner = runner
    printed = re.search(r"^curl -sS '[^']*/history\?limit=5' .*?\"$", process.output, re.MULTILINE | re.DOTALL)
    assert printed, process.output
    assert f"/api/v1/products/{banner.product_id}/history" in printed.group(0)
    assert f"Bearer {banner.token}" in printed.group(0)
    if shutil.which("curl") is None:
        pytest.skip("the curl binary is not installed")
    result = subprocess.run(["bash", "-c", printed.group(0)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) == {"items", "nextCursor"}


def test_functions_called_at_once_each_see_their_own_request(runner: tuple[Runner, Banner]) -> None:
    # Powertools keeps the current event in a class attribute shared by every resolver of the process: two functions
    # called at once would read each other's request (here: answer with the other's requestId after their DynamoDB
    # call) unless the runner serialises them.
    _, banner = runner
    missing = "dddddddddddddddddddddddd"
    authorization = {"Authorization": f"Bearer {banner.token}"}
    failures: list[str] = []

    def check(method: str, reply: Reply, status: int) -> None:
        if reply.status != status:
            failures.append(f"{method}: {reply.status} {reply.body}")
        elif status != 200 and reply.body.get("requestId") != reply.headers["apigw-requestid"]:
            failures.append(f"{method}: answered for request {reply.body.get('requestId')}")

    def reads() -> None:
        for _ in range(20):
            check("GET", call(banner.base_url, "GET", f"/api/v1/products/{missing}/history", authorization), 404)
            check("GET", get_history(banner, "?limit=1"), 200)

    def writes() -> None:
        for number in range(20):
            body = json.dumps({"description": f"concurrent {number}"}).encode()
            headers = {**authorization, "Content-Type": "application/json"}
            check("PATCH", call(banner.base_url, "PATCH", f"/api/v1/products/{missing}", headers, body), 404)
            check("PATCH", patch(banner, {"description": f"concurrent {number}"}), 200)

    threads = [threading.Thread(target=target) for target in (reads, writes, reads, writes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures[:5]


# --- the read routes ---------------------------------------------------------------------------------------


def test_read_routes_are_served_with_the_demo_key(runner: tuple[Runner, Banner]) -> None:
    """GET -> PATCH with If-Match through the runner, as the README shows it, and errors in the client's language."""
    _, banner = runner
    authorization = {"Authorization": f"Bearer {banner.token}"}
    product_path = f"/api/v1/products/{banner.product_id}"
    read = call(banner.base_url, "GET", product_path, authorization)
    assert read.status == 200, read.body
    assert read.body["_id"] == banner.product_id
    etag = read.headers["etag"]
    assert read.headers["cache-control"] == "private, no-cache"
    unchanged = call(banner.base_url, "GET", product_path, {**authorization, "If-None-Match": etag})
    assert (unchanged.status, unchanged.body, unchanged.headers["etag"]) == (304, None, etag)
    updated = patch(banner, {"description": "read, then updated"}, {"If-Match": etag})
    assert updated.status == 200, updated.body
    stale = patch(banner, {"description": "again"}, {"If-Match": etag, "Accept-Language": "de"})
    assert (stale.status, stale.headers["content-language"]) == (412, "de")
    listed = call(banner.base_url, "GET", "/api/v1/products?limit=5", authorization)
    assert listed.status == 200, listed.body
    assert banner.product_id in [item["_id"] for item in listed.body["items"]]
    refused = call(banner.base_url, "GET", "/api/v1/products?limt=5", {**authorization, "Accept-Language": "it"})
    assert (refused.status, refused.body["error"]) == (400, "Validazione non riuscita")


# --- what API Gateway does around the function -------------------------------------------------------


def test_unknown_route_is_404_json(runner: tuple[Runner, Banner]) -> None:
    _, banner = runner
    for path in ("/nope", "/api/v1/items", f"/api/v1/products/{banner.product_id}/photos"):
        reply = call(banner.base_url, "PATCH", path, {"Authorization": f"Bearer {banner.token}"}, b"{}")
        assert (reply.status, reply.body) == (404, {"message": "Not Found"}), path
        assert reply.headers["content-type"] == "application/json"


def test_wrong_method_is_405_json_with_allow(runner: tuple[Runner, Banner]) -> None:
    _, banner = runner
    for method in ("POST", "DELETE"):
        reply = call(banner.base_url, method, f"/api/v1/products/{banner.product_id}", {})
        assert (reply.status, reply.body) == (405, {"message": "Method Not Allowed"}), method
        assert reply.headers["allow"] == "GET, PATCH"
        assert reply.headers["content-type"] == "application/json"
    reply = call(banner.base_url, "PATCH", "/api/v1/products", {})
    assert (reply.status, reply.headers["allow"]) == (405, "GET")


def test_idempotency_key_works_in_any_header_case(runner: tuple[Runner, Banner]) -> None:
    _, banner = runner
    key = str(uuid.uuid4())
    body = {"description": f"idempotency check {key}"}
    first = patch(banner, body, {"IDEMPOTENCY-KEY": key})
    assert first.status == 200, first.body
    assert "idempotent-replayed" not in first.headers
    for spelling in ("idempotency-key", "Idempotency-Key", "iDeMpOtEnCy-KeY"):
        replay = patch(banner, body, {spelling: key})
        assert replay.status == 200, (spelling, replay.body)
        assert replay.headers.get("idempotent-replayed") == "true", spelling
        assert replay.body == first.body
        assert replay.headers["etag"] == first.headers["etag"]
    # A different key is a new write: the replays above wrote nothing.
    fresh = patch(banner, body, {"Idempotency-Key": str(uuid.uuid4())})
    assert fresh.status == 200
    assert fresh.body["version"] == first.body["version"] + 1


def test_handler_errors_pass_through_with_their_status(runner: tuple[Runner, Banner]) -> None:
    _, banner = runner
    reply = call(
        banner.base_url,
        "PATCH",
        f"/api/v1/products/{banner.product_id}",
        {"Content-Type": "application/json"},
        b"{}",
    )
    assert reply.status == 401
    assert reply.body["code"] == "unauthorized"
    assert reply.headers["www-authenticate"].startswith("Bearer")


# --- the change history: the products table's stream -> ProductChangesFunction -> history and events ---------


def event_lines(process: Runner, detail_type: str, change_id: str) -> list[dict[str, Any]]:
    """The details of the events the runner printed for one change."""
    prefix = f"event {detail_type} on products-api-local-products: "
    details = [json.loads(line.removeprefix(prefix)) for line in process.lines if line.startswith(prefix)]
    return [detail for detail in details if detail["changeId"] == change_id]


def test_a_patch_reaches_the_history_and_the_event_bus(runner: tuple[Runner, Banner]) -> None:
    process, banner = runner
    # the demo product's creation went through the stream when the runner started
    process.wait_for_line(rf'^event ProductCreated on .*"changeId":"demo-company/{banner.product_id}/1"', 30)

    reply = patch(banner, {"description": f"history check {uuid.uuid4()}"})
    assert reply.status == 200, reply.body
    version = reply.body["version"]
    change_id = f"demo-company/{banner.product_id}/{version}"
    # Asynchronous, as in AWS: wait (with a deadline) for the function to have published, then for it to have
    # returned. The history entry is written before the event is published.
    process.wait_for_line(rf'^event ProductUpdated on .*"changeId":"{change_id}"', 30)
    process.wait_for_line(
        rf'"message":"product change recorded".*"product_id":"{banner.product_id}","version":{version}', 10
    )

    (detail,) = event_lines(process, "ProductUpdated", change_id)
    assert detail["changedFields"] == ["description"]
    assert detail["version"] == version
    assert detail["updatedAt"] == reply.body["updatedAt"]
    assert detail["updatedBy"].startswith("cred_")

    client = banner.dynamodb()
    key = {"pk": {"S": f"COMPANY#demo-company#PRODUCT#{banner.product_id}"}, "version": {"N": str(version)}}
    item = client.get_item(TableName="HistoryTable", Key=key, ConsistentRead=True)["Item"]
    (change,) = item["changes"]["L"]
    assert change["M"]["field"] == {"S": "description"}
    assert change["M"]["to"] == {"S": reply.body["description"]}
    assert item["changedBy"] == {"S": detail["updatedBy"]}
