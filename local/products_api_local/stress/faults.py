"""Fault injection on a boto3 client, through its before-send hook (also used by the tests)."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.httpsession import URLLib3Session

# --- fault injection on a boto3 client (also used by the tests) ---------------------------------------------------


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _response(status: int, body: Mapping[str, Any]) -> AWSResponse:
    headers = HTTPHeaders()
    headers["x-amzn-requestid"] = "injected"
    return AWSResponse("https://dynamodb.injected", status, headers, _Raw(json.dumps(body).encode()))


def error_response(status: int, code: str) -> AWSResponse:
    """DynamoDB's answer with this error code, as its JSON protocol spells it."""
    return _response(status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"})


def conflict_response(reason: str = "TransactionConflict") -> AWSResponse:
    """A TransactWriteItems cancelled for `reason` on its first item (the product), as DynamoDB answers it."""
    return _response(
        400,
        {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": f"Transaction cancelled, please refer cancellation reasons for specific reasons "
            f"[{reason}, None, None]",
            "CancellationReasons": [{"Code": reason, "Message": "injected"}, {"Code": "None"}, {"Code": "None"}],
        },
    )


def _target(request: Any) -> tuple[str, str]:
    target = request.headers.get("X-Amz-Target", b"")
    target = target.decode() if isinstance(target, bytes) else target
    body = json.loads(request.body or b"{}")
    return target.rsplit(".", 1)[-1], str(body.get("TableName", ""))


@contextlib.contextmanager
def _before_send(client: Any, handler: Callable[..., AWSResponse | None]) -> Iterator[None]:
    events = client.meta.events
    hook_id = f"stress-fault-{uuid.uuid4()}"
    events.register_first("before-send.dynamodb", handler, unique_id=hook_id)
    try:
        yield
    finally:
        events.unregister("before-send.dynamodb", unique_id=hook_id)


@contextlib.contextmanager
def failing(
    client: Any,
    operation: str,
    make_failure: Callable[[], AWSResponse | Exception],
    *,
    table: str | None = None,
    times: int | None = None,
) -> Iterator[list[str]]:
    """Attempts of `operation` (on `table`, if given) fail before they reach DynamoDB, the first `times` of them
    (all if None); yields the attempts that were failed.
    """
    attempts: list[str] = []

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        name, table_name = _target(request)
        if name != operation or (table is not None and table_name != table):
            return None
        if times is not None and len(attempts) >= times:
            return None
        attempts.append(operation)
        failure = make_failure()
        if isinstance(failure, Exception):
            raise failure
        return failure

    with _before_send(client, before_send):
        yield attempts


class InvocationLost(BaseException):  # not an error of the code: the container died
    """The function died (timeout, crash) right after DynamoDB applied its write: nobody gets an answer. A
    BaseException, so that nothing in the function (Powertools included) handles it: its idempotency record stays
    in progress, as after a real crash.
    """


@contextlib.contextmanager
def applied_then_failing(
    client: Any,
    applies: Callable[[str, str], bool],
    make_error: Callable[[Any, str], BaseException],
) -> Iterator[list[int]]:
    """The first request for which `applies(operation, table)` holds reaches DynamoDB and is applied; then, instead
    of its answer, `make_error(request, operation)` is raised. Yields the status DynamoDB answered it with.
    """
    sent: list[int] = []
    http = URLLib3Session()

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        name, table_name = _target(request)
        if sent or not applies(name, table_name):
            return None
        sent.append(http.send(request).status_code)
        raise make_error(request, name)

    with _before_send(client, before_send):
        yield sent


def write_then_die(client: Any, operations: frozenset[str], table: str) -> contextlib.AbstractContextManager[list[int]]:
    """The first product write reaches DynamoDB and is applied; then the invocation dies before answering."""
    return applied_then_failing(
        client,
        lambda name, table_name: name in operations and not (name == "UpdateItem" and table_name != table),
        lambda _request, name: InvocationLost(name),
    )
