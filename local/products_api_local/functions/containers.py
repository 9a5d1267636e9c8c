"""A function's containers, as Lambda runs them: one process per concurrent invocation, reused while warm, a new one
started (a cold start) when every container is busy, up to the function's concurrency cap.

Nothing is shared between invocations: each runs in a container of its own, whatever the other functions do. A
request that finds the cap reached waits for a container to come free (Lambda would throttle it with 429
TooManyRequestsException; locally, waiting lets a load test measure the function rather than the throttling). A
container that runs past the function's Timeout is stopped and replaced, as Lambda resets a timed-out environment.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

from products_api_local.functions.context import LambdaContext
from products_api_local.functions.loader import Handler
from products_api_local.functions.preload import LIBRARIES
from products_api_local.functions.worker import ContainerSpec, serve

# Lambda gives a function's init 10 s; imports are slower on a busy laptop than in Lambda, so allow more.
INIT_TIMEOUT_SECONDS = 30.0
# Containers fork from a server process that holds no thread of the runner (forking a threaded process is unsafe).
# It has imported the libraries the functions use (`preload`) but none of their own code, so a container's init is
# a real cold start of the handler's module, without paying again for boto3, pydantic and Powertools.
_CONTEXT: ForkServerContext = multiprocessing.get_context("forkserver")


@dataclass(frozen=True)
class Invocation:
    result: Any
    elapsed_seconds: float
    # Why the invocation failed as Lambda would report it (raised, timed out, init failed), or None.
    error: str | None
    # The init duration when this invocation started a container (a cold start), else None.
    init_seconds: float | None = None
    # Which of the function's containers ran it (1, 2, ... in the order they started; 0 when there is none): two
    # requests served by different containers at once are invocations side by side.
    container: int = 0


class Invoker(Protocol):
    """What the API and the stream pollers need of a function: run one event and say how it went."""

    def invoke(self, event: dict[str, Any]) -> Invocation: ...


class InProcessFunction:
    """A handler called in this process, one invocation after another: for tests of what surrounds a function."""

    def __init__(self, function_name: str, handler: Handler, timeout_seconds: int = 3, memory_mb: int = 128) -> None:
        self.function_name = function_name
        self.handler = handler
        self.timeout_seconds = timeout_seconds
        self.memory_mb = memory_mb

    def invoke(self, event: dict[str, Any]) -> Invocation:
        started = time.monotonic()
        context = LambdaContext(
            self.function_name, remaining_ms=self.timeout_seconds * 1000, memory_limit_in_mb=self.memory_mb
        )
        try:
            result = self.handler(event, context)
        except Exception:
            return Invocation(None, time.monotonic() - started, f"raised:\n{traceback.format_exc().rstrip()}")
        elapsed = time.monotonic() - started
        if elapsed > self.timeout_seconds:
            # In this process the handler cannot be stopped: its late result is discarded, as Lambda never sends it.
            return Invocation(None, elapsed, f"Task timed out after {self.timeout_seconds:.2f} seconds")
        return Invocation(result, elapsed, None)


class _Container:
    def __init__(self, spec: ContainerSpec, number: int) -> None:
        self.number = number
        self.connection, child = _CONTEXT.Pipe()
        self.process: BaseProcess = _CONTEXT.Process(
            target=serve, args=(child, spec), name=f"container-{spec.function_name}", daemon=True
        )
        self.process.start()
        child.close()

    def wait_ready(self) -> tuple[str, Any]:
        if not self.connection.poll(INIT_TIMEOUT_SECONDS):
            return "init_error", f"init did not finish within {INIT_TIMEOUT_SECONDS:.0f} s"
        return _receive(self.connection)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.send(None)
        self.connection.close()
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _receive(connection: Connection) -> tuple[str, Any]:
    try:
        kind, payload = connection.recv()
    except (EOFError, OSError):
        return "exited", "Runtime.ExitError: the container's process exited"
    return str(kind), payload


class FunctionContainers:
    """The containers of one function: `invoke` runs an event in a free one, starting one when none is free."""

    def __init__(self, spec: ContainerSpec, timeout_seconds: int, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError(f"{spec.function_name}: the concurrency cap must be at least 1, got {concurrency}")
        # The server process starts with the first container: from then on it has these modules at hand.
        _CONTEXT.set_forkserver_preload(["products_api_local.functions.worker", *LIBRARIES])
        self.spec = spec
        self.timeout_seconds = timeout_seconds
        self.concurrency = concurrency
        self._idle: list[_Container] = []
        self._count = 0
        self._started = 0
        self._closed = False
        self._changed = threading.Condition()

    @property
    def function_name(self) -> str:
        return self.spec.function_name

    @property
    def containers(self) -> int:
        """How many containers exist, busy or warm."""
        with self._changed:
            return self._count

    def warm_up(self) -> float:
        """Start one container and keep it warm; its init duration. Raises RuntimeError if the init fails."""
        container, failure, init_seconds = self._start()
        if container is None:
            raise RuntimeError(failure)
        self._release(container, healthy=True)
        return init_seconds

    def invoke(self, event: dict[str, Any]) -> Invocation:
        container, init_seconds = self._acquire()
        if container is None:
            return Invocation(None, 0.0, f"init failed:\n{init_seconds}", None)
        cold = None if isinstance(init_seconds, str) else init_seconds
        started = time.monotonic()
        healthy = False
        try:
            container.connection.send((event, str(uuid.uuid4()), self.timeout_seconds * 1000))
            if not container.connection.poll(self.timeout_seconds):
                elapsed = time.monotonic() - started
                timed_out = f"Task timed out after {self.timeout_seconds:.2f} seconds (container stopped)"
                return Invocation(None, elapsed, timed_out, cold, container.number)
            kind, payload = _receive(container.connection)
            elapsed = time.monotonic() - started
            healthy = kind in {"ok", "error"}
            if kind == "ok":
                return Invocation(json.loads(payload), elapsed, None, cold, container.number)
            error = f"raised:\n{payload}" if kind == "error" else payload
            return Invocation(None, elapsed, error, cold, container.number)
        finally:
            self._release(container, healthy=healthy)

    def _acquire(self) -> tuple[_Container | None, float | str | None]:
        with self._changed:
            while True:
                if self._closed:
                    return None, "the runner is stopping"
                if self._idle:
                    return self._idle.pop(), None
                if self._count < self.concurrency:
                    self._count += 1
                    break
                self._changed.wait()
        container, failure, init_seconds = self._start(counted=True)
        if container is None:
            return None, failure
        return container, init_seconds

    def _start(self, counted: bool = False) -> tuple[_Container | None, str, float]:
        with self._changed:
            if not counted:
                self._count += 1
            self._started += 1
            number = self._started
        container = _Container(self.spec, number)
        kind, payload = container.wait_ready()
        if kind == "ready":
            return container, "", float(payload)
        container.stop()
        with self._changed:
            self._count -= 1
            self._changed.notify()
        return None, str(payload), 0.0

    def _release(self, container: _Container, *, healthy: bool) -> None:
        with self._changed:
            if healthy and not self._closed:
                # Last in, first out: the most recently used container is the warmest, and the others can idle.
                self._idle.append(container)
                self._changed.notify()
                return
            self._count -= 1
            self._changed.notify()
        container.stop()

    def stop(self) -> None:
        """Stop the warm containers; busy ones stop when their invocation ends."""
        with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._changed.notify_all()
        for container in idle:
            container.stop()
