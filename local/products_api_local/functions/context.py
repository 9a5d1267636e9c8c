"""The Lambda context stand-in: what the Lambda runtime hands a Python handler. One class for the runner's function
containers, the bench and the tests.
"""

from __future__ import annotations

import time
import uuid

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "eu-west-1"


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
