"""The Lambda context stand-in: what the Lambda runtime hands a Python handler. One class for the runner's function
containers, the bench and the tests.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "eu-west-1"
# Where the Lambda runtime puts each invocation's X-Ray trace header (Powertools' log lines read it from there).
TRACE_HEADER_VARIABLE = "_X_AMZN_TRACE_ID"


def begin_invocation() -> None:
    """What the Lambda runtime does before it calls the handler, besides the context: a new trace header in the
    environment, of the documented form (`Root=1-<time>-<id>;Parent=<id>;Sampled=0`; not sampled, as nothing here
    sends traces). Lambda sets one for every invocation, tracing on or off."""
    root = f"1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    os.environ[TRACE_HEADER_VARIABLE] = f"Root={root};Parent={secrets.token_hex(8)};Sampled=0"


class LambdaContext:
    """A context whose time left counts down from `remaining_ms` (the function's Timeout) from its creation."""

    function_version = "$LATEST"
    identity = None
    client_context = None

    def __init__(
        self,
        function_name: str = "UpdateProductFunction",
        *,
        remaining_ms: int = 10_000,
        memory_limit_in_mb: int = 1024,
        region: str = DEFAULT_REGION,
        log_stream_name: str = "local",
        aws_request_id: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = memory_limit_in_mb
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = log_stream_name
        self.remaining_ms = remaining_ms
        self._deadline = time.monotonic() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        # Negative once the deadline has passed, as a test of an expired invocation needs; Lambda stops it first.
        return int((self._deadline - time.monotonic()) * 1000)
