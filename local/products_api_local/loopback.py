"""A small HTTP server on a free loopback port, in a thread of its own: what the local stand-ins for AWS services
(the CDN in front of the image bucket, EventBridge's PutEvents) share.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer(ThreadingHTTPServer):
    """Serves `handler` on 127.0.0.1 at a free port from `start()` to `stop()`."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], thread_name: str) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self.serve_forever, name=thread_name, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class QuietRequestHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive answers, written at once, and no access log line (each stand-in says what matters)."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, a keep-alive client's delayed ACK holds the
    # second one back about 40 ms, on every request.
    disable_nagle_algorithm = True

    def answer(
        self,
        status: int,
        content_type: str,
        payload: bytes,
        *,
        body: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The status, Content-Type and Content-Length, any other headers, then the payload (not for HEAD)."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""
