"""The local runner (`python -m products_api_local.runner`) as a child process of the tests, and its banner.

Shared by the tests that call the API over real HTTP: tests/local/test_runner.py (the runner itself, the docs'
examples), tests/local/test_runner_lambda.py (containers, streams, dead letters) and tests/local/test_fuzz.py
(schemathesis against docs/openapi.json); `call` and `patch` are their raw HTTP requests.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from support import ROOT

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

START_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Banner:
    base_url: str
    dynamodb_port: int
    product_id: str
    token: str
    seeded: bool
    curl: str

    def dynamodb(self) -> DynamoDBClient:
        """A client of the runner's DynamoDB Local (which takes any credentials: these keep a real account's out)."""
        return boto3.client(
            "dynamodb",
            endpoint_url=f"http://127.0.0.1:{self.dynamodb_port}",
            region_name="eu-west-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )


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


@contextmanager
def running(*arguments: str) -> Iterator[tuple[Runner, Banner]]:
    """A runner on a free port with these arguments (`--in-memory`, `--data-dir PATH`), stopped on the way out."""
    process = Runner(free_port(), *arguments)
    try:
        yield process, process.banner()
    finally:
        process.stop()


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
