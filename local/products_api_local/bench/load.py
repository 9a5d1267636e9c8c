"""HTTP load on the local runner: concurrent clients PATCHing the demo product, on loopback, for a bounded time.

The runner (`python -m products_api_local.runner --in-memory`) is started once, as a child process on a free port; its
banner gives the URL, the demo product and an API key. Every client thread keeps one keep-alive connection
(`http.client`: the load generator shares the machine's two cores with what it measures, and `requests` cost it
about 1.5 ms of CPU a request, ~1 ms more than this) and sends plain patches (no model, no key) until the deadline.
The run is cut into windows, whose throughput spreads show whether the figure is steady.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import urlsplit

import requests

from products_api_local.dynamodb_local import free_port

RUNNER_MODULE = "products_api_local.runner"
_BANNER_TIMEOUT_SECONDS = 120.0
_REQUEST_TIMEOUT_SECONDS = 10.0
_WARM_UP_SECONDS = 5.0
_URL = re.compile(r"running at (http://127\.0\.0\.1:\d+)")
_PRODUCT = re.compile(r"Demo product:\s+([0-9a-f]{24})")
_TOKEN = re.compile(r"Demo API key:\s+(\S+)")
_DYNAMODB = re.compile(r"DynamoDB Local:\s+(http://127\.0\.0\.1:\d+)")
_MERGE = threading.Lock()


class RunnerUnavailable(Exception):
    """The local runner is missing or did not come up: the load run is skipped, with this reason."""


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    # (finish time relative to start, ok) of every request, for the windows
    finished: list[tuple[float, bool]] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    # The machine's 1-minute load average when the run ended (other processes share its cores).
    load_average: str = "n/a"

    @property
    def requests(self) -> int:
        return len(self.finished)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def window_rates(self, windows: int) -> list[float]:
        width = self.seconds / windows
        counts = [0] * windows
        for moment, _ in self.finished:
            index = int(moment / width)
            if 0 <= index < windows:
                counts[index] += 1
        return [count / width for count in counts]


@dataclass(frozen=True)
class _Runner:
    process: subprocess.Popen[str]
    url: str
    product_id: str
    token: str


def runner_available() -> bool:
    return importlib.util.find_spec(RUNNER_MODULE) is not None


def _read_banner(stdout: IO[str], found: dict[str, str], done: threading.Event) -> None:
    """Read the banner, then keep draining stdout (the containers' log lines) so the runner never blocks on a full
    pipe: in large reads, without looking at them, as this thread shares the bench process with the clients.
    """
    for line in stdout:
        for key, pattern in (("url", _URL), ("dynamodb", _DYNAMODB), ("product", _PRODUCT), ("token", _TOKEN)):
            match = pattern.search(line)
            if match and key not in found:
                found[key] = match.group(1)
        if len(found) == 4:
            break
    done.set()
    while stdout.read(1 << 16):
        pass


def _start_runner(log: IO[bytes]) -> _Runner:
    if not runner_available():
        raise RunnerUnavailable(f"runner not available: no module {RUNNER_MODULE}")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", RUNNER_MODULE, "--port", str(port), "--host", "127.0.0.1", "--in-memory"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        # one log line per request: a file, never a pipe nobody reads
        stderr=log,
        text=True,
    )
    assert process.stdout is not None
    found: dict[str, str] = {}
    done = threading.Event()
    threading.Thread(target=_read_banner, args=(process.stdout, found, done), daemon=True).start()
    done.wait(_BANNER_TIMEOUT_SECONDS)
    if not {"url", "product", "token"} <= found.keys():
        _stop(process)
        log.flush()
        log.seek(0)
        tail = log.read()[-1500:].decode("utf-8", errors="replace")
        raise RunnerUnavailable(
            f"runner not available: no banner with URL, demo product and API key within "
            f"{_BANNER_TIMEOUT_SECONDS:.0f} s (exit status {process.poll()})\n{tail}"
        )
    if "dynamodb" in found:
        _lift_demo_rate(found["dynamodb"])
    return _Runner(process, found["url"], found["product"], found["token"])


def _lift_demo_rate(endpoint_url: str) -> None:
    """The load run measures the runner, not the write-rate limiter (the template's 100 writes a minute would
    answer most requests 429): the demo company's own plan lifts its rate (0 = unlimited), as the fuzz test does.
    The limiter's cost has its own section of the bench."""
    import boto3
    from products_api.limits.store import LimitsStore

    from products_api_local.demo import DEMO_COMPANY
    from products_api_local.template.document import load_template
    from products_api_local.template.functions import local_table_names

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="eu-west-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - DynamoDB Local takes any credentials
    )
    limits = LimitsStore(client, local_table_names(load_template())["LimitsTable"])
    limits.set_plan(DEMO_COMPANY, rate=0, quota=None, clear_rate=False, clear_quota=False)


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM (the runner stops its HTTP server and DynamoDB Local), then SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _client(runner: _Runner, number: int, started: float, deadline: float, result: LoadResult) -> None:
    target = urlsplit(runner.url)
    path = f"/api/v1/products/{runner.product_id}"
    headers = {"Authorization": f"Bearer {runner.token}", "Content-Type": "application/json"}
    latencies: list[float] = []
    finished: list[tuple[float, bool]] = []
    errors: dict[str, int] = {}
    connection = http.client.HTTPConnection(
        target.hostname or "127.0.0.1", target.port, timeout=_REQUEST_TIMEOUT_SECONDS
    )
    try:
        i = 0
        while time.perf_counter() < deadline:
            body = json.dumps({"name": f"Load client {number:02d} request {i % 100:02d}"})
            sent = time.perf_counter()
            ok = False
            try:
                connection.request("PATCH", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
                if not ok:
                    errors[f"HTTP {response.status}"] = errors.get(f"HTTP {response.status}", 0) + 1
            except (OSError, http.client.HTTPException) as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                connection.close()  # the next request opens a new connection, as a client library would
            now = time.perf_counter()
            latencies.append((now - sent) * 1000)
            finished.append((now - started, ok))
            i += 1
    finally:
        connection.close()
    # merged once per thread at the end, so the hot loop shares nothing
    with _MERGE:
        result.latencies_ms.extend(latencies)
        result.finished.extend(finished)
        for name, count in errors.items():
            result.errors[name] = result.errors.get(name, 0) + count


def run_load(client_counts: Sequence[int], seconds: float) -> list[LoadResult]:
    """One run per client count, in order, on one runner. Raises RunnerUnavailable when it is missing or does not
    start."""
    with tempfile.TemporaryFile(prefix="bench-runner-") as log:
        runner = _start_runner(log)
        try:
            # one request first: the runner builds its runtime (client, credential cache) on the first one
            warm = requests.patch(
                f"{runner.url}/api/v1/products/{runner.product_id}",
                data=json.dumps({"name": "Load warm-up"}),
                headers={"Authorization": f"Bearer {runner.token}", "Content-Type": "application/json"},
                timeout=30,
            )
            if warm.status_code != 200:
                raise RunnerUnavailable(f"runner answered {warm.status_code} to a warm-up PATCH: {warm.text[:300]}")
            # Then as many clients as the largest run, unmeasured: each container a run will use is started and has
            # built its runtime, so the figures are the warm throughput, not the cold starts' (the cold bench has them).
            _run_clients(runner, max(client_counts), _WARM_UP_SECONDS)
            return [_run_clients(runner, clients, seconds) for clients in client_counts]
        finally:
            _stop(runner.process)


def _run_clients(runner: _Runner, clients: int, seconds: float) -> LoadResult:
    result = LoadResult(clients, seconds)
    started = time.perf_counter()
    deadline = started + seconds
    threads = [
        threading.Thread(target=_client, args=(runner, n, started, deadline, result), daemon=True)
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + _REQUEST_TIMEOUT_SECONDS + 5)
    # the last requests may finish after the deadline; they count, the time they took too
    result.seconds = max(seconds, max((moment for moment, _ in result.finished), default=seconds))
    result.load_average = load_average()
    return result


def load_average() -> str:
    """The 1-minute load average (Linux, macOS), or "n/a"."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"
