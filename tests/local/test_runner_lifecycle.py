"""`python -m products_api_local.runner` stops cleanly (its DynamoDB Local with it, the port freed) and restarts on
its data.
"""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest
from local_runner import Banner, Runner, free_port, patch
from products_api_local.dynamodb_local import port_is_free

pytestmark = pytest.mark.dynamodb_local


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


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


def assert_stopped_cleanly(runner: Runner, banner: Banner, signum: signal.Signals) -> None:
    started = time.monotonic()
    assert runner.stop(signum) == 0, runner.output
    assert time.monotonic() - started < 15, "stopping took too long"
    assert ": stopped" in runner.output
    assert not accepts_connections(runner.port)
    assert port_is_free(runner.port), "the API's port is still taken"
    assert not accepts_connections(banner.dynamodb_port), "DynamoDB Local still answers"
    assert java_processes_on(banner.dynamodb_port) == []


# --- stop and restart ----------------------------------------------------------------------------------


def test_stops_cleanly_and_restarts_on_its_data(tmp_path: Path) -> None:
    port = free_port()
    first = Runner(port, "--data-dir", str(tmp_path))
    try:
        banner = first.banner()
        assert banner.seeded
        renamed = patch(banner, {"name": "Kept across a restart"})
        assert renamed.status == 200, renamed.body
        first.wait_for_line(rf'^event ProductUpdated on .*"changeId":"demo-company/{banner.product_id}/2"', 30)
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
        # The stream carries on from its checkpoint: a new write is delivered, the two of the first run are not
        # delivered again.
        assert patch(again, {"name": "After the restart"}).status == 200
        second.wait_for_line(rf'^event ProductUpdated on .*"changeId":"demo-company/{banner.product_id}/3"', 30)
        second.wait_for_line(r"^ProductsTable stream -> ProductChangesFunction: 1 record\(s\), 0 failed", 30)
        events = [line for line in second.lines if line.startswith("event ")]
        assert len(events) == 1, second.output
        batches = [line for line in second.lines if line.startswith("ProductsTable stream -> ")]
        assert batches and all(" 1 record(s), 0 failed" in line for line in batches), second.output
    except BaseException:
        second.stop()
        raise
    assert_stopped_cleanly(second, again, signal.SIGINT)
