"""EventBridge's PutEvents, locally: the stream function's events are printed on the console and accepted."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, cast

from products_api_local.loopback import LoopbackServer, QuietRequestHandler


class EventsSink(LoopbackServer):
    """EventBridge's PutEvents, locally: every event is printed and accepted (the functions' boto3 clients reach it
    through AWS_ENDPOINT_URL_EVENTBRIDGE). Nothing is delivered anywhere; no rule or target is evaluated.
    """

    def __init__(self, log: Callable[[str], None]) -> None:
        super().__init__(_EventsRequestHandler, "events-sink")
        self.log = log


class _EventsRequestHandler(QuietRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        if target != "AWSEvents.PutEvents":
            self._answer(400, {"__type": "UnknownOperationException", "message": f"{target} is not served locally"})
            return
        entries = json.loads(body or b"{}").get("Entries", [])
        sink = cast(EventsSink, self.server)
        for entry in entries:
            sink.log(f"event {entry.get('DetailType')} on {entry.get('EventBusName')}: {entry.get('Detail')}")
        self._answer(200, {"FailedEntryCount": 0, "Entries": [{"EventId": str(uuid.uuid4())} for _ in entries]})

    def _answer(self, status: int, document: dict[str, Any]) -> None:
        self.answer(status, "application/x-amz-json-1.1", json.dumps(document).encode())
