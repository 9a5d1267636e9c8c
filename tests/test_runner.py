"""`python -m products_api_local.runner` (what `make serve` runs), over real HTTP, on DynamoDB Local.

The examples of the update-product docs (curl, Python requests, TypeScript fetch) run against it as written, with
only the host changed and the demo product and key it printed.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import ROOT

pytestmark = pytest.mark.dynamodb_local

# The docs page the runner's demo follows; it lives beside the project (as CONTRACT.md does) unless SEED_DOC says.
SEED_DOC = Path(os.environ.get("SEED_DOC", ROOT.parent / "shared" / "seeds" / "000_2f4882e1294ac7a8.txt"))
DOCS_HOST = "https://app.tracepass.eu"
NEW_NAME = "Li-Ion 48V Battery Pack (revised)"
NEW_IMAGES = ["https://cdn.example.com/new-hero.jpg"]
START_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def can_bind(port: int) -> bool:
    """Whether a new server could listen on the port (as the runner does: with SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def java_processes_on(port: int) -> list[int]:
    """Pids of DynamoDB Local servers listening on `port` (Linux /proc; elsewhere none are seen)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            arguments = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        is_dynamodb_local = any(b"DynamoDBLocal" in argument for argument in arguments) and b"-port" in arguments
        if is_dynamodb_local and arguments[arguments.index(b"-port") + 1] == str(port).encode():
            found.append(int(cmdline.parent.name))
    return found


@dataclass(frozen=True)
class Banner:
    base_url: str
    dynamodb_port: int
    product_id: str
    token: str
    seeded: bool
    curl: str


class Runner:
    """The runner as a child process, its output collected by a thread so a full pipe never blocks it."""

    def __init__(self, port: int, *arguments: str) -> None:
        self.port = port
        self.lines: list[str] = []
        self._ended = False
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "products_api_local.runner", "--port", str(port), *arguments],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(re.search(pattern, line) for line in self.lines):
                output = "\n".join(self.lines)
                if self._ended:
                    pytest.fail(f"the runner exited with {self.process.wait()} before {pattern!r}:\n{output}")
                if time.monotonic() > deadline:
                    pytest.fail(f"no line matching {pattern!r} after {timeout:.0f} s:\n{output}")
                self._changed.wait(0.2)

    def banner(self) -> Banner:
        self.wait_for_line(r"^Press Ctrl-C to stop", START_TIMEOUT)
        text = self.output

        def field(label: str) -> str:
            found = re.search(rf"^\s+{label}:\s+(\S+)", text, re.MULTILINE)
            assert found, f"no {label} in the banner:\n{text}"
            return found.group(1)

        curl = re.search(r"^curl .*?\}'$", text, re.MULTILINE | re.DOTALL)
        assert curl, f"no curl command in the banner:\n{text}"
        url = re.search(r"^Products API running at (\S+)", text, re.MULTILINE)
        assert url
        return Banner(
            base_url=url.group(1),
            dynamodb_port=int(field("DynamoDB Local").rsplit(":", 1)[1]),
            product_id=field("Demo product"),
            token=field("Demo API key"),
            seeded="Demo data:      seeded now" in text,
            curl=curl.group(0),
        )

    def stop(self, signum: signal.Signals = signal.SIGINT) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"the runner did not stop within {STOP_TIMEOUT:.0f} s of {signum.name}:\n{self.output}")


def assert_stopped_cleanly(runner: Runner, banner: Banner, signum: signal.Signals) -> None:
    started = time.monotonic()
    assert runner.stop(signum) == 0, runner.output
    assert time.monotonic() - started < 15, "stopping took too long"
    assert ": stopped" in runner.output
    assert not accepts_connections(runner.port)
    assert can_bind(runner.port), "the API's port is still taken"
    assert not accepts_connections(banner.dynamodb_port), "DynamoDB Local still answers"
    assert java_processes_on(banner.dynamodb_port) == []


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


def call(base_url: str, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> Reply:
    """One request with http.client, which sends header names exactly as given."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        reply_headers = {name.lower(): value for name, value in response.getheaders()}
        return Reply(response.status, reply_headers, json.loads(raw) if raw else None)
    finally:
        connection.close()


def patch(banner: Banner, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
    return call(
        banner.base_url,
        "PATCH",
        f"/api/v1/products/{banner.product_id}",
        {"Authorization": f"Bearer {banner.token}", "Content-Type": "application/json", **(headers or {})},
        json.dumps(body).encode(),
    )


def seed_snippet(language: str) -> str:
    if not SEED_DOC.is_file():
        pytest.skip(f"the docs page {SEED_DOC} is not here (set SEED_DOC to its path)")
    found = re.search(rf"^```{language}\n(.*?)^```", SEED_DOC.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    assert found, f"no {language} example in {SEED_DOC}"
    snippet = found.group(1)
    assert DOCS_HOST in snippet
    return snippet.replace(DOCS_HOST, "{BASE_URL}")


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runner, Banner]]:
    process = Runner(free_port(), "--data-dir", str(tmp_path_factory.mktemp("runner-data")))
    try:
        yield process, process.banner()
    finally:
        process.stop()


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
    process.wait_for_line(rf"^PATCH /api/v1/products/{banner.product_id} 200 \d+\.\d ms$", 10)


def test_docs_python_requests_example(runner: tuple[Runner, Banner]) -> None:
    _, banner = runner
    snippet = seed_snippet("python").replace("{BASE_URL}", banner.base_url)
    program = f"product_id = {banner.product_id!r}\n{snippet}\nprint(res.status_code, res.text)\n"
    result = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "TRACEPASS_API_KEY": banner.token},
    )
    # raise_for_status() in the example would have failed the program on an error status.
    assert result.returncode == 0, result.stdout + result.stderr
    status, _, text = result.stdout.strip().partition(" ")
    assert status == "200"
    assert (json.loads(text)["name"], json.loads(text)["imageUrls"]) == (NEW_NAME, NEW_IMAGES)


def test_docs_typescript_fetch_example(runner: tuple[Runner, Banner]) -> None:
    _, banner = runner
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    snippet = seed_snippet("typescript").replace("{BASE_URL}", banner.base_url)
    # The example is plain JavaScript; a wrapper around fetch records its response, the example stays verbatim.
    program = (
        f"const id = {json.dumps(banner.product_id)};\n"
        "const realFetch = globalThis.fetch; let last;\n"
        "globalThis.fetch = async (...args) => (last = await realFetch(...args));\n"
        f"{snippet}\n"
        "console.log(JSON.stringify({ status: last.status, body: await last.json() }));\n"
    )
    result = subprocess.run(
        [node, "--input-type=module", "-e", program],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "TRACEPASS_API_KEY": banner.token},
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == 200, outcome
    assert outcome["body"]["name"] == NEW_NAME


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
    process.wait_for_line(rf"^GET /api/v1/products/{banner.product_id}/history\?limit=5 200 \d+\.\d ms$", 10)
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


# --- what API Gateway does around the function -------------------------------------------------------


def test_unknown_route_is_404_json(runner: tuple[Runner, Banner]) -> None:
    _, banner = runner
    for path in ("/nope", "/api/v1/products", f"/api/v1/products/{banner.product_id}/images"):
        reply = call(banner.base_url, "PATCH", path, {"Authorization": f"Bearer {banner.token}"}, b"{}")
        assert (reply.status, reply.body) == (404, {"message": "Not Found"}), path
        assert reply.headers["content-type"] == "application/json"


def test_wrong_method_is_405_json_with_allow(runner: tuple[Runner, Banner]) -> None:
    _, banner = runner
    for method in ("GET", "POST", "DELETE"):
        reply = call(banner.base_url, method, f"/api/v1/products/{banner.product_id}", {})
        assert (reply.status, reply.body) == (405, {"message": "Method Not Allowed"}), method
        assert reply.headers["allow"] == "PATCH"
        assert reply.headers["content-type"] == "application/json"


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


# --- stop and restart ----------------------------------------------------------------------------------


def test_stops_cleanly_and_restarts_on_its_data(tmp_path: Path) -> None:
    port = free_port()
    first = Runner(port, "--data-dir", str(tmp_path))
    try:
        banner = first.banner()
        assert banner.seeded
        renamed = patch(banner, {"name": "Kept across a restart"})
        assert renamed.status == 200, renamed.body
    except BaseException:
        first.stop()
        raise
    assert_stopped_cleanly(first, banner, signal.SIGTERM)

    # Same port and data at once: nothing of the first run may be left holding them.
    second = Runner(port, "--data-dir", str(tmp_path))
    try:
        again = second.banner()
        assert not again.seeded, second.output
        assert (again.product_id, again.token, again.base_url) == (banner.product_id, banner.token, banner.base_url)
        # `{}` writes nothing and answers with the product as stored.
        current = patch(again, {})
        assert current.status == 200, current.body
        assert current.body["name"] == "Kept across a restart"
        assert current.body["version"] == 2
    except BaseException:
        second.stop()
        raise
    assert_stopped_cleanly(second, again, signal.SIGINT)
