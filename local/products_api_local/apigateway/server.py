"""The HTTP API in front of the functions, served over HTTP: route, build the event, invoke, read the result.

Requests are served side by side (a thread each, a listen backlog that takes bursts of connections): a function
invocation runs in one of the function's containers (`products_api_local.functions.containers`), so requests to the
same or to different functions run at once, as on Lambda.
"""

from __future__ import annotations

import errno
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import urlsplit

from products_api_local import cors
from products_api_local.apigateway.events import (
    INTERNAL_ERROR_BODY,
    MAX_REQUEST_BYTES,
    METHOD_NOT_ALLOWED_BODY,
    NOT_FOUND_BODY,
    TOO_LARGE_BODY,
    ApiGateway,
    HttpRequest,
    HttpResponse,
    InvalidResult,
    build_event,
    response_from_result,
)
from products_api_local.apigateway.routes import RouteMiss, RouteTable
from products_api_local.docs_site import serve_docs
from products_api_local.functions.containers import Invoker

_JSON = ("Content-Type", "application/json")
# Connections waiting to be accepted: the socketserver default (5) reset connections of a burst of 24 clients.
LISTEN_BACKLOG = 1024


class ServerError(RuntimeError):
    """The HTTP server cannot listen: the message says why and what to do."""


@dataclass(eq=False)
class LocalApi:
    """The HTTP API in front of the functions: route, build the event, invoke, read the result."""

    routes: RouteTable
    functions: Mapping[str, Invoker]
    gateway: ApiGateway
    log: Callable[[str], None]
    cors_policy: cors.CorsPolicy | None = None

    def handle(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        """The response, and what the console line adds about the invocation (the function, a cold start)."""
        request_id = str(uuid.uuid4())
        # as API Gateway with CorsConfiguration: it answers preflights itself, and marks allowed origins' answers
        preflight = cors.preflight(self.cors_policy, request)
        response, note = (preflight, "") if preflight is not None else self._handle(request, request_id)
        cors.decorate(self.cors_policy, request, response)
        response.headers.append(("Apigw-Requestid", request_id))
        return response, note

    def _handle(self, request: HttpRequest, request_id: str) -> tuple[HttpResponse, str]:
        match = self.routes.match(request.method, request.raw_path)
        if isinstance(match, RouteMiss):
            if not match.allowed:
                return HttpResponse(404, [_JSON], NOT_FOUND_BODY), ""
            allow = ("Allow", ", ".join(match.allowed))
            if request.method.upper() == "OPTIONS":
                return HttpResponse(204, [allow]), ""
            return HttpResponse(405, [_JSON, allow], METHOD_NOT_ALLOWED_BODY), ""

        name = match.route.function
        event = build_event(request, match, self.gateway, request_id=request_id)
        invocation = self.functions[name].invoke(event)
        note = f" ({name} container {invocation.container}"
        if invocation.init_seconds is not None:
            note += f", cold start: init {invocation.init_seconds * 1000:.0f} ms"
        note += f", {invocation.elapsed_seconds * 1000:.1f} ms in the function)"
        if invocation.error is not None:
            self.log(f"{name} {invocation.error}")
            return HttpResponse(500, [_JSON], INTERNAL_ERROR_BODY), note
        try:
            return response_from_result(invocation.result), note
        except InvalidResult as exc:
            self.log(f"{name}: invalid result: {exc}")
            return HttpResponse(500, [_JSON], INTERNAL_ERROR_BODY), note


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], api: LocalApi | None, log: Callable[[str], None]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _RequestHandler)
        self.api = api
        self.log = log
        self._active = 0
        self._idle = threading.Condition()

    def begin(self) -> None:
        with self._idle:
            self._active += 1

    def end(self) -> None:
        with self._idle:
            self._active -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "products-api-local"
    # As for the events sink: no 40 ms stall between the headers and the body on a keep-alive connection.
    disable_nagle_algorithm = True
    # An idle keep-alive connection is closed after this long.
    timeout = 60

    def version_string(self) -> str:
        return self.server_version

    @property
    def _server(self) -> ApiServer:
        return cast(ApiServer, self.server)

    def __getattr__(self, name: str) -> Callable[[], None]:
        # Every method goes through route matching (a 404 or 405, as API Gateway), not http.server's 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _serve(self) -> None:
        started = time.perf_counter()
        server = self._server
        target = self.path
        if not target.startswith("/"):  # absolute-form request target
            parts = urlsplit(target)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        raw_path, _, query = target.partition("?")
        note = ""
        server.begin()
        try:
            body = self._read_body()
            if body is None:
                response = HttpResponse(413, [_JSON], TOO_LARGE_BODY)
                self.close_connection = True
            elif (docs := serve_docs(self.command, raw_path)) is not None:
                # /docs: the interactive API reference (products_api_local.docs_site), not a route of the template
                response = HttpResponse(*docs)
            elif server.api is None:
                response = HttpResponse(503, [_JSON], b'{"message":"Service Unavailable"}')
            else:
                request = HttpRequest(
                    method=self.command,
                    raw_path=raw_path,
                    raw_query_string=query,
                    headers=list(self.headers.items()),
                    body=body,
                    source_ip=self.client_address[0],
                    protocol=self.request_version,
                )
                response, note = server.api.handle(request)
            try:
                self._write(response)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (its timeout) while the function ran: as API Gateway, the function's work
                # stands and the answer is dropped; the console says so in the request's line, not in a traceback.
                self.close_connection = True
                note += " (the client had closed the connection: response not sent)"
        finally:
            server.end()
        milliseconds = (time.perf_counter() - started) * 1000
        server.log(f"{self.command} {target} {response.status} {milliseconds:.1f} ms{note}")

    def _read_body(self) -> bytes | None:
        """The request body, or None when it is over API Gateway's limit."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                length = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if length == 0:
                    # Trailers, if any, end with an empty line.
                    while self.rfile.readline().strip():
                        pass
                    break
                size += length
                if size > MAX_REQUEST_BYTES:
                    return None
                chunks.append(self.rfile.read(length))
                self.rfile.readline()
            return b"".join(chunks)
        length_header = self.headers.get("Content-Length")
        length = int(length_header) if length_header and length_header.strip().isdigit() else 0
        if length > MAX_REQUEST_BYTES:
            return None
        return self.rfile.read(length) if length else b""

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                self.send_header(name, value)
        bodiless = self.command == "HEAD" or response.status in {204, 304} or response.status < 200
        if response.status not in {204, 304} and response.status >= 200:
            self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not bodiless:
            self.wfile.write(response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Malformed requests get JSON too, like every other answer of the API.
        self.close_connection = True
        body = json.dumps({"message": message or self.responses.get(code, ("Error",))[0]}).encode()
        self.send_response(code)
        self.send_header(*_JSON)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD" and code >= 200 and code not in {204, 304}:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: `_serve` logs one line per request itself."""


def bind(host: str, port: int, log: Callable[[str], None]) -> ApiServer:
    try:
        return ApiServer((host, port), None, log)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServerError(
                f"port {port} on {host} is in use (another `make serve`?): stop it, or choose another port "
                "with --port (make serve PORT=...)"
            ) from None
        raise ServerError(f"cannot listen on {host}:{port}: {exc}") from None
