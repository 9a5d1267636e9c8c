"""EventBridge's PutEvents, locally: the stream function's events are printed on the console and accepted."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast


class EventsSink(ThreadingHTTPServer):
    """EventBridge's PutEvents, locally: every event is printed and accepted (the functions' boto3 clients reach it
    through AWS_ENDPOINT_URL_EVENTBRIDGE). Nothing is delivered anywhere; no rule or target is evaluated.
    """

    daemon_threads = True

    def __init__(self, log: Callable[[str], None]) -> None:
        super().__init__(("127.0.0.1", 0), _EventsRequestHandler)
        self.log = log
        self._thread = threading.Thread(target=self.serve_forever, name="events-sink", daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _EventsRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, a keep-alive client's delayed ACK holds the
    # second one back about 40 ms, on every PutEvents.
    disable_nagle_algorithm = True

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
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: each event is printed by do_POST."""
