"""The history checker (products_api_local.stress) through the local runner, over HTTP.

`make stress ARGS=--http` starts the runner (`python -m products_api_local.runner`) as a child process with a data
folder of its own, seeds the checker's company, credential, products and a plan with a write rate it never reaches
into the runner's tables (through the DynamoDB Local endpoint the runner publishes), sends the checker's requests to
the runner's HTTP server and checks the history with the same `check`. `--base-url URL --endpoint URL` use a runner
that is already running instead (its tables must not hold the checker's company yet).

Over HTTP the clients cannot reach into the function's DynamoDB client, so no conflict, throttling, lost invocation
or limiter refusal is injected. What stays is what a client can do from outside: losing or expiring an idempotency
record, which the checker does by editing the runner's idempotency table directly.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from products_api.core.dynamodb import to_attribute_values
from products_api.limits.store import LimitsStore
from products_api.products.models import company_partition

from products_api_local.stress import (
    COMPANY,
    REGION,
    TABLE_ENV_VARS,
    TOKEN,
    Answer,
    Plan,
    Report,
    Request,
    Setup,
    check,
    prepare,
    run_clients,
    stream_records,
    table_items,
)
from products_api_local.template.document import load_template, project_root
from products_api_local.template.functions import local_table_names

# Where each client process finds the runner (set in the environment the clients are spawned with).
BASE_URL_VARIABLE = "STRESS_BASE_URL"
# The faults a client can cause from outside the function: both edit the idempotency table, not the function's client.
HTTP_FAULTS = ("lost_record", "expired_record")
# The checker's company writes far below this: the limiter is on for every request but refuses none.
PLAN_WRITE_RATE_PER_MINUTE = 1_000_000
START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 20.0
REQUEST_TIMEOUT_SECONDS = 30.0


class StressHttpError(RuntimeError):
    """The runner could not be started or used."""


class HttpTransport:
    """PATCH requests to the runner over one keep-alive connection per client process."""

    def __init__(self, base_url: str | None = None) -> None:
        url = urlsplit(base_url or os.environ[BASE_URL_VARIABLE])
        if url.scheme != "http" or url.hostname is None:
            raise StressHttpError(f"the runner's URL must be http://host:port, got {base_url!r}")
        self._connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=REQUEST_TIMEOUT_SECONDS)

    def __call__(self, request: Request) -> Answer:
        body = request.body if isinstance(request.body, str) else json.dumps(request.body)
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", **request.headers}
        try:
            self._connection.request("PATCH", f"/api/v1/products/{request.product_id}", body.encode(), headers)
            response = self._connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            # no answer: the request may or may not have been applied, as a lost invocation (the checker allows both)
            self._connection.close()
            return Answer(None)
        return Answer(response.status, dict(response.getheaders()), payload.decode())


def runner_table_names() -> dict[str, str]:
    """The runner's table names for the tables the update function reads (logical id -> local name)."""
    names = local_table_names(load_template())
    return {logical_id: names[logical_id] for logical_id in TABLE_ENV_VARS}


def seed(endpoint_url: str, products: int, models: int) -> Setup:
    """The checker's company, credential and products in the runner's tables, and a plan whose rate is never hit."""
    names = runner_table_names()
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint_url)
    held = client.query(
        TableName=names["ProductsTable"],
        KeyConditionExpression="#pk = :company",
        ExpressionAttributeNames={"#pk": "pk"},
        ExpressionAttributeValues=to_attribute_values({":company": company_partition(COMPANY)}),
        Limit=1,
    )
    if held.get("Items"):
        # the checker's products have fixed ids and models: a second run would collide with the first one's
        raise StressHttpError(f"the runner's tables already hold the checker's company {COMPANY}: use a fresh runner")
    setup = prepare(endpoint_url, products, models, table_names=names)
    limits = LimitsStore(setup.client(), setup.table_names["LimitsTable"])
    limits.set_plan(COMPANY, rate=PLAN_WRITE_RATE_PER_MINUTE, quota=None, clear_rate=False, clear_quota=False)
    return setup


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def started_runner(port: int | None = None) -> Iterator[tuple[str, str]]:
    """A runner of its own (a fresh data folder, removed afterwards): yields its base URL and DynamoDB endpoint."""
    data_dir = Path(tempfile.mkdtemp(prefix="stress-runner-"))
    port = port or _free_port()
    log_path = data_dir / "runner.out"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603  # this interpreter, our own module
            [sys.executable, "-m", "products_api_local.runner", "--port", str(port), "--data-dir", str(data_dir)],
            cwd=project_root(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        endpoint = _wait_until_serving(process, log_path, data_dir / "endpoint.json")
        yield f"http://127.0.0.1:{port}", endpoint
    finally:
        _stop(process)
        shutil.rmtree(data_dir, ignore_errors=True)


def _wait_until_serving(process: subprocess.Popen[bytes], log_path: Path, endpoint_file: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        output = log_path.read_text(errors="replace")
        if "Press Ctrl-C to stop" in output and endpoint_file.exists():
            return str(json.loads(endpoint_file.read_text())["endpoint_url"])
        if process.poll() is not None:
            raise StressHttpError(f"the runner exited with {process.returncode} before serving:\n{output}")
        if time.monotonic() > deadline:
            raise StressHttpError(f"the runner was not serving after {START_TIMEOUT_SECONDS:.0f} s:\n{output}")
        time.sleep(0.2)  # waiting for a child process's start, not for a test's result


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(2)  # SIGINT: the runner stops its containers and DynamoDB Local
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_http(setup: Setup, base_url: str, processes: int, duration_seconds: float, seed_value: int) -> Report:
    """The checker's clients against `base_url`, then the same checks as the handler transport's."""
    plan = Plan(
        processes,
        duration_seconds,
        setup.product_ids,
        setup.models,
        seed_value,
        transport="http",
        faults=HTTP_FAULTS,
    )
    entries = run_clients(plan, {**setup.environment, BASE_URL_VARIABLE: base_url})
    return check(entries, stream_records(setup), table_items(setup))


def run_over_runner(
    processes: int,
    duration_seconds: float,
    seed_value: int,
    products: int = 4,
    models: int = 6,
    base_url: str | None = None,
    endpoint_url: str | None = None,
) -> Report:
    """The whole run: a runner of its own unless `base_url` and `endpoint_url` name a running one."""
    if (base_url is None) != (endpoint_url is None):
        raise StressHttpError("--base-url and --endpoint go together: the runner's URL and its DynamoDB Local's")
    with contextlib.ExitStack() as stack:
        if base_url is None or endpoint_url is None:
            print(">> starting the local runner (its own data folder)", flush=True)
            base_url, endpoint_url = stack.enter_context(started_runner())
        print(f">> over HTTP: {base_url}, DynamoDB Local {endpoint_url}", flush=True)
        setup = seed(endpoint_url, products, models)
        return run_http(setup, base_url, processes, duration_seconds, seed_value)


def main_http(args: argparse.Namespace, seed_value: int) -> int:
    """`stress --http`: the parsed arguments of products_api_local.stress."""
    try:
        started = time.monotonic()
        report = run_over_runner(
            args.processes, args.duration, seed_value, args.products, args.models, args.base_url, args.endpoint
        )
    except StressHttpError as exc:
        print(f"stress: {exc}", file=sys.stderr)
        return 2
    print(f">> {time.monotonic() - started:.1f} s in all")
    print(report.summary())
    return 1 if report.violations else 0
