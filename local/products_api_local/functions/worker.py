"""One function container: a process that imports the handler once (its init, or cold start), then runs one
invocation at a time for as long as it is kept warm. Started by `products_api_local.functions.containers`.

The messages on its connection: the container answers `("ready", init_seconds)` or `("init_error", traceback)` once,
then for each `(event, request_id, remaining_ms)` it receives, `("ok", result_json)` or `("error", traceback)`.
The result travels as JSON, as the Lambda runtime serialises it: a result JSON cannot hold fails the invocation.
"""

from __future__ import annotations

import json
import os
import signal
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from products_api_local.functions.context import LambdaContext, begin_invocation
from products_api_local.functions.loader import import_handler


@dataclass(frozen=True)
class ContainerSpec:
    """What a container needs to know, sent to it when it starts."""

    function_name: str
    code_dir: Path
    handler: str
    memory_mb: int
    region: str
    # The whole environment of the process (the runner's, isolated from AWS, with the function's own variables).
    environment: dict[str, str] = field(default_factory=dict)
    # Added to the process's nice value: a function fed by a stream in the background yields the CPU to those
    # answering HTTP requests, so a burst of writes (each a stream record) does not slow the API that made them.
    niceness: int = 0


def serve(connection: Connection, spec: ContainerSpec) -> None:
    """The container's life: init, then invocations until the runner closes the connection."""
    # Ctrl-C reaches every process of the terminal's group: the runner stops its containers itself, in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if spec.niceness:
        os.nice(spec.niceness)
    started = time.monotonic()
    # Before the handler's modules are imported: some read their environment at import (Powertools' logger).
    os.environ.clear()
    os.environ.update(spec.environment)
    try:
        handler = import_handler(spec.code_dir, spec.handler, spec.function_name)
    except BaseException:
        connection.send(("init_error", traceback.format_exc().rstrip()))
        return
    connection.send(("ready", time.monotonic() - started))
    while True:
        try:
            message: Any = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        event, request_id, remaining_ms = message
        context = LambdaContext(
            spec.function_name,
            remaining_ms=remaining_ms,
            memory_limit_in_mb=spec.memory_mb,
            region=spec.region,
            aws_request_id=request_id,
        )
        begin_invocation()
        try:
            result = handler(event, context)
        except Exception:
            connection.send(("error", traceback.format_exc().rstrip()))
            continue
        try:
            payload = json.dumps(result)
        except (TypeError, ValueError) as exc:
            connection.send(("error", f"Runtime.MarshalError: Unable to marshal response: {exc}"))
            continue
        connection.send(("ok", payload))
