"""Requests, answers and transports: how a client reaches the API (the handler transport: the update function's
lambda_handler in the client's process, its faults injected)."""

from __future__ import annotations

import contextlib
import copy
import importlib
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from products_api.core.dynamodb import make_client

from products_api_local.stress.constants import TOKEN
from products_api_local.stress.faults import InvocationLost, conflict_response, error_response, failing, write_then_die
from products_api_local.template.document import project_root

# --- requests, answers and transports ---------------------------------------------------------------------------


@dataclass
class Request:
    worker: int
    seq: int
    kind: str
    product_id: str
    body: dict[str, Any] | str
    headers: dict[str, str]
    # the fault injected into this request's invocation (handler transport only)
    fault: str | None = None
    # the function's remaining time at the invocation
    remaining_ms: int = 10_000


@dataclass
class Answer:
    # None: no answer came back (the invocation was lost)
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    def header(self, name: str) -> str | None:
        lowered = {key.lower(): value for key, value in self.headers.items()}
        return lowered.get(name.lower())

    @property
    def code(self) -> str | None:
        if self.status is None or self.status == 200:
            return None
        try:
            return str(json.loads(self.body).get("code"))
        except ValueError:
            return "unreadable"


Transport = Callable[[Request], Answer]


class _Context:
    """What the handler reads from a Lambda context."""

    function_name = "UpdateProductFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:UpdateProductFunction"
    log_group_name = "/aws/lambda/UpdateProductFunction"
    log_stream_name = "stress"

    def __init__(self, remaining_ms: int) -> None:
        self._deadline = time.monotonic() + remaining_ms / 1000
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def _update_function() -> ModuleType:
    folder = str(project_root() / "functions" / "update_product")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module("update_product")


class HandlerTransport:
    """The update function's lambda_handler in this process, as one warm container, its faults injected."""

    def __init__(self) -> None:
        from products_api.core.settings import load_settings
        from products_api.products.runtime import Runtime

        self.settings = load_settings()
        self.client = make_client(self.settings)
        runtime = Runtime.build(self.settings, self.client)
        self._module = _update_function()
        setattr(self._module, "get_runtime", lambda: runtime)  # noqa: B010  # this container's runtime, on the client the faults hook
        base = project_root() / "events" / "patch_product.json"
        self._base_event: dict[str, Any] = json.loads(base.read_text())

    def __call__(self, request: Request) -> Answer:
        event = copy.deepcopy(self._base_event)
        path = f"/api/v1/products/{request.product_id}"
        event["rawPath"] = path
        event["requestContext"]["http"]["path"] = path
        event["requestContext"]["requestId"] = str(uuid.uuid4())
        event["pathParameters"] = {"id": request.product_id}
        event["headers"] = {
            "content-type": "application/json",
            "authorization": f"Bearer {TOKEN}",
            **{name.lower(): value for name, value in request.headers.items()},
        }
        event["body"] = request.body if isinstance(request.body, str) else json.dumps(request.body)
        event["isBase64Encoded"] = False
        with self._fault(request.fault):
            try:
                result = self._module.lambda_handler(event, _Context(request.remaining_ms))
            except InvocationLost:
                return Answer(None)
        return Answer(int(result["statusCode"]), dict(result.get("headers") or {}), result.get("body") or "")

    def _fault(self, fault: str | None) -> contextlib.AbstractContextManager[Any]:
        products = self.settings.products_table_name
        if fault == "conflict":
            # a transaction holds the product for a moment: the first two writes meet it
            return _both_writes_fail(self.client, products, times=2)
        if fault == "conflict_forever":
            return _both_writes_fail(self.client, products, times=None)
        if fault == "throttle":
            return failing(
                self.client, "UpdateItem", lambda: error_response(400, "ThrottlingException"), table=products
            )
        if fault == "write_then_die":
            return write_then_die(self.client, frozenset({"UpdateItem", "TransactWriteItems"}), products)
        if fault == "rate_limited" and self.settings.limits_table_name is not None:
            # the limiter's counter write fails its condition, as when the window is full: 429 before any write
            return failing(
                self.client,
                "UpdateItem",
                lambda: error_response(400, "ConditionalCheckFailedException"),
                table=self.settings.limits_table_name,
                times=1,
            )
        return contextlib.nullcontext()


@contextlib.contextmanager
def _both_writes_fail(client: Any, products_table: str, times: int | None) -> Iterator[None]:
    """TransactionConflictException on the product's UpdateItem, TransactionConflict on a rename's transaction."""
    with (
        failing(
            client,
            "UpdateItem",
            lambda: error_response(400, "TransactionConflictException"),
            table=products_table,
            times=times,
        ),
        failing(client, "TransactWriteItems", conflict_response, times=times),
    ):
        yield


# name -> factory, called once in each client process. Another transport registers itself here.
def _http_transport() -> Transport:
    from products_api_local.stress.over_http import HttpTransport  # imports this module: imported when first used

    return HttpTransport()


TRANSPORTS: dict[str, Callable[[], Transport]] = {"handler": HandlerTransport, "http": _http_transport}
