"""Serve the routes of template.yaml over HTTP, in this process, on DynamoDB Local: the API as a user would call it.

    python -m products_api_local.runner [--port 3000] [--host 127.0.0.1] [--in-memory] [--data-dir PATH]

No Docker: each function's handler is imported from its CodeUri folder and called in this process, with the
environment the template gives it (table references resolved to the local tables), the event API Gateway's HTTP API
would send (`products_api_local.events`) and a Lambda-like context. One handler runs at a time, whichever function it
belongs to: the functions keep per-container state between requests, and Powertools' event handlers share theirs.

Functions fed by a DynamoDB stream (`Type: DynamoDB` events) are fed here too: a thread polls the table's stream on
DynamoDB Local from its oldest record, applies the event source's FilterCriteria, invokes the function with the event
Lambda would send (`products_api_local.streams`) and retries failed records as Lambda does. Their EventBridge client
reaches a local PutEvents sink (AWS_ENDPOINT_URL_EVENTBRIDGE), which prints each event and delivers it nowhere.

DynamoDB Local keeps its data in `.dynamodb/` (git-ignored) unless `--in-memory`; the tables of the template are
created when missing. The first start seeds a demo company, product and API key and prints a curl request for them.
Ctrl-C (or SIGTERM) stops the HTTP server, the stream pollers, then DynamoDB Local.

As API Gateway and Lambda would: a handler that raises, returns an unusable result or runs past its Timeout gets
500 `{"message":"Internal Server Error"}` (the traceback or reason is printed here); a body over 10 MiB gets 413.
AWS credentials are always dummy ones, whatever the shell holds, so nothing reaches a real account.
The function's JSON log line per request is shown; its EMF metrics and X-Ray tracing are off
(POWERTOOLS_METRICS_DISABLED and POWERTOOLS_TRACE_DISABLED default to true here; set them in the shell to override).
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import importlib
import io
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, ModuleType
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import boto3

from products_api_local import cors, s3_local
from products_api_local.docs_site import docs_url, serve_docs
from products_api_local.dynamodb_local import DynamoDBLocal, DynamoDBLocalError, publish_endpoint, withdraw_endpoint
from products_api_local.events import (
    INTERNAL_ERROR_BODY,
    MAX_REQUEST_BYTES,
    METHOD_NOT_ALLOWED_BODY,
    NOT_FOUND_BODY,
    TOO_LARGE_BODY,
    ApiGateway,
    HttpRequest,
    HttpResponse,
    InvalidResult,
    RouteError,
    RouteMiss,
    RouteTable,
    build_event,
    response_from_result,
    routes_from_template,
)
from products_api_local.streams import (
    StreamReader,
    StreamSource,
    StreamSourceError,
    first_failed_sequence_number,
    stream_arn,
    stream_sources_from_template,
)
from products_api_local.template import TemplateError, create_tables, load_template, project_root

if TYPE_CHECKING:
    # Imported at run time while DynamoDB Local starts: it loads the models, which takes a while.
    from products_api_local.demo import Demo

DEFAULT_PORT = 3000
DEFAULT_HOST = "127.0.0.1"
DATA_DIR = ".dynamodb"
DEFAULT_REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "products-api-local"
# SAM's own defaults when neither the function nor Globals set them.
SAM_DEFAULT_TIMEOUT = 3
SAM_DEFAULT_MEMORY = 128
# How long a stop waits for requests already being handled.
_DRAIN_SECONDS = 5.0
# Lambda polls a stream shard about four times a second.
_STREAM_POLL_SECONDS = 0.25
_STREAM_RETRY_SECONDS = 1.0
# Retries of a failing batch when the template sets no MaximumRetryAttempts (Lambda: until the records expire).
_LOCAL_RETRY_CAP = 10
_JSON = ("Content-Type", "application/json")

Handler = Callable[[dict[str, Any], Any], Any]


class RunnerError(RuntimeError):
    """The runner cannot start: the message says why and what to do."""


# --- the functions of template.yaml ----------------------------------------------------------------


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str  # module.function, as Lambda reads it
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str] = field(default_factory=dict)


def local_table_names(template: Mapping[str, Any]) -> dict[str, str]:
    """Logical id -> local physical name: the literal TableName if the template sets one, else the logical id."""
    names: dict[str, str] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if isinstance(resource, Mapping) and resource.get("Type") == "AWS::DynamoDB::Table":
            table_name = (resource.get("Properties") or {}).get("TableName")
            names[logical_id] = table_name if isinstance(table_name, str) else logical_id
    return names


class _Resolver:
    """The few intrinsic functions a function's configuration uses, resolved to their local values."""

    def __init__(self, template: Mapping[str, Any], table_names: Mapping[str, str], region: str) -> None:
        self._tables = table_names
        self._resources: Mapping[str, Any] = template.get("Resources") or {}
        self._parameters: Mapping[str, Any] = template.get("Parameters") or {}
        self._pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def resolve(self, where: str, value: Any) -> str:
        if isinstance(value, bool):  # CloudFormation passes booleans on as "true" / "false"
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
        if isinstance(value, Mapping) and list(value) == ["Ref"] and isinstance(value["Ref"], str):
            return self._ref(where, value["Ref"])
        if isinstance(value, Mapping) and list(value) == ["Fn::Sub"] and isinstance(value["Fn::Sub"], str):
            return re.sub(r"\$\{([^}!]+)\}", lambda found: self._ref(where, found.group(1)), value["Fn::Sub"])
        raise RunnerError(
            f"template.yaml: {where} is {json.dumps(value)}, which the local runner cannot resolve "
            "(it knows literals, !Ref to a table, a parameter or a pseudo parameter, and !Sub of those)"
        )

    def _ref(self, where: str, name: str) -> str:
        if name in self._tables:
            return self._tables[name]
        resource = self._resources.get(name)
        if isinstance(resource, Mapping) and resource.get("Type") == "AWS::Events::EventBus":
            # Ref of an event bus is its name; the local sink takes any name
            bus_name = (resource.get("Properties") or {}).get("Name")
            if bus_name is None:
                raise RunnerError(f"template.yaml: {name} needs a Name for {where} to resolve locally")
            return self.resolve(f"{name}.Properties.Name", bus_name)
        # the images bucket and its distribution (issue 15): their local values come from the local S3
        local_value = s3_local.local_reference(self._resources, name)
        if local_value is not None:
            return local_value
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            default = (self._parameters[name] or {}).get("Default")
            if default is None:
                raise RunnerError(f"template.yaml: {where} refers to parameter {name}, which has no Default")
            return self.resolve(f"Parameters.{name}.Default", default)
        raise RunnerError(
            f"template.yaml: {where} refers to {name}, which the local runner cannot resolve "
            "(only DynamoDB tables, event buses, parameters and AWS:: pseudo parameters have local values)"
        )


def function_specs(
    template: Mapping[str, Any], root: Path, table_names: Mapping[str, str], region: str
) -> dict[str, FunctionSpec]:
    """Every AWS::Serverless::Function, its Globals applied and its environment resolved to local values."""
    resolver = _Resolver(template, table_names, region)
    defaults: Mapping[str, Any] = (template.get("Globals") or {}).get("Function") or {}
    specs: dict[str, FunctionSpec] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties: Mapping[str, Any] = resource.get("Properties") or {}

        def setting(name: str, fallback: Any = None, given: Mapping[str, Any] = properties) -> Any:
            return given.get(name, defaults.get(name, fallback))

        code_uri, handler = setting("CodeUri"), setting("Handler")
        if code_uri is None or handler is None:
            raise RunnerError(f"template.yaml: {logical_id} needs CodeUri and Handler to run locally")
        code_dir = root / resolver.resolve(f"{logical_id}.CodeUri", code_uri)
        if not code_dir.is_dir():
            raise RunnerError(f"template.yaml: {logical_id}.CodeUri {code_dir} is not a folder")
        # Globals' variables apply to every function, which can override them one by one.
        variables = {
            **((defaults.get("Environment") or {}).get("Variables") or {}),
            **((properties.get("Environment") or {}).get("Variables") or {}),
        }
        environment = {
            name: resolver.resolve(f"{logical_id}.Environment.Variables.{name}", value)
            for name, value in variables.items()
        }
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=code_dir,
            handler=resolver.resolve(f"{logical_id}.Handler", handler),
            timeout_seconds=int(resolver.resolve(f"{logical_id}.Timeout", setting("Timeout", SAM_DEFAULT_TIMEOUT))),
            memory_mb=int(resolver.resolve(f"{logical_id}.MemorySize", setting("MemorySize", SAM_DEFAULT_MEMORY))),
            environment=environment,
        )
    return specs


def shared_environment(specs: Mapping[str, FunctionSpec]) -> dict[str, str]:
    """The functions' variables together: they run in one process here, so they must not disagree."""
    merged: dict[str, str] = {}
    owners: dict[str, str] = {}
    for spec in specs.values():
        for name, value in spec.environment.items():
            if name in merged and merged[name] != value:
                raise RunnerError(
                    f"{owners[name]} and {spec.logical_id} set {name} to different values ({merged[name]!r}, "
                    f"{value!r}); the local runner runs every function in one process with one environment"
                )
            merged[name], owners[name] = value, spec.logical_id
    return merged


def import_handler(spec: FunctionSpec) -> Handler:
    """The handler, imported from the function's CodeUri folder as the Lambda runtime imports it."""
    module_name, dot, attribute = spec.handler.rpartition(".")
    if not dot or not module_name:
        raise RunnerError(f"{spec.logical_id}: Handler {spec.handler!r} is not module.function")
    folder = str(spec.code_dir.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module: ModuleType = importlib.import_module(module_name)
    location = Path(module.__file__ or "").resolve()
    if not location.is_relative_to(folder):
        raise RunnerError(
            f"{spec.logical_id}: module {module_name} was imported from {location}, not from {folder}: "
            "another function or package has a module of the same name"
        )
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise RunnerError(f"{spec.logical_id}: {module_name} has no function {attribute}")
    return cast(Handler, handler)


# --- calling a function ----------------------------------------------------------------------------


class LambdaContext:
    """What the Lambda runtime hands a Python handler, with the time left counting down from the function's Timeout."""

    function_version = "$LATEST"
    identity = None
    client_context = None

    def __init__(self, spec: FunctionSpec, region: str, started: float) -> None:
        self.function_name = spec.logical_id
        self.memory_limit_in_mb = spec.memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{spec.logical_id}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.logical_id}"
        self.log_stream_name = "local"
        self._deadline = started + spec.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# Every function runs in this one process, and Powertools' event handlers keep the current event in state shared by
# all resolver instances: two handlers must never run at once, whichever functions they belong to.
_INVOCATION_LOCK = threading.Lock()


@dataclass
class LocalFunction:
    spec: FunctionSpec
    handler: Handler
    # One invocation at a time across all functions (see _INVOCATION_LOCK); also what one Lambda container does.
    lock: threading.Lock = field(default_factory=lambda: _INVOCATION_LOCK)


@dataclass(frozen=True)
class Invocation:
    result: Any
    elapsed_seconds: float
    # Why the invocation failed as Lambda would report it (raised, timed out), or None.
    error: str | None


def invoke(function: LocalFunction, event: dict[str, Any], region: str) -> Invocation:
    """Call the handler as the Lambda runtime would: one at a time, with a context counting down its Timeout."""
    with function.lock:
        started = time.monotonic()
        context = LambdaContext(function.spec, region, started)
        try:
            result = function.handler(event, context)
        except Exception:
            return Invocation(None, time.monotonic() - started, f"raised:\n{traceback.format_exc().rstrip()}")
        elapsed = time.monotonic() - started
    if elapsed > function.spec.timeout_seconds:
        # Lambda would have ended the invocation: its result never reaches the caller.
        return Invocation(
            None,
            elapsed,
            f"Task timed out after {function.spec.timeout_seconds:.2f} seconds "
            f"(it took {elapsed:.2f} s; the deployed function would have been stopped)",
        )
    return Invocation(result, elapsed, None)


class LocalApi:
    """The HTTP API in front of the functions: route, build the event, invoke, read the result."""

    def __init__(
        self,
        routes: RouteTable,
        functions: Mapping[str, LocalFunction],
        gateway: ApiGateway,
        region: str,
        log: Callable[[str], None],
        cors_policy: cors.CorsPolicy | None = None,
    ) -> None:
        self.routes = routes
        self.functions = functions
        self.gateway = gateway
        self.region = region
        self.log = log
        self.cors_policy = cors_policy

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = str(uuid.uuid4())
        # as API Gateway with CorsConfiguration: it answers preflights itself, and marks allowed origins' answers
        response = cors.preflight(self.cors_policy, request) or self._handle(request, request_id)
        cors.decorate(self.cors_policy, request, response)
        response.headers.append(("Apigw-Requestid", request_id))
        return response

    def _handle(self, request: HttpRequest, request_id: str) -> HttpResponse:
        match = self.routes.match(request.method, request.raw_path)
        if isinstance(match, RouteMiss):
            if not match.allowed:
                return HttpResponse(404, [_JSON], NOT_FOUND_BODY)
            allow = ("Allow", ", ".join(match.allowed))
            if request.method.upper() == "OPTIONS":
                return HttpResponse(204, [allow])
            return HttpResponse(405, [_JSON, allow], METHOD_NOT_ALLOWED_BODY)

        function = self.functions[match.route.function]
        event = build_event(request, match, self.gateway, request_id=request_id)
        invocation = invoke(function, event, self.region)
        if invocation.error is not None:
            self.log(f"{function.spec.logical_id} {invocation.error}")
            return HttpResponse(500, [_JSON], INTERNAL_ERROR_BODY)
        result = invocation.result
        try:
            return response_from_result(result)
        except InvalidResult as exc:
            self.log(f"{function.spec.logical_id}: invalid result: {exc}")
            return HttpResponse(500, [_JSON], INTERNAL_ERROR_BODY)


# --- DynamoDB streams and EventBridge ------------------------------------------------------------------------


class StreamPoller:
    """Lambda's DynamoDB event source for one function: poll the table's stream, filter, invoke, retry.

    Every shard is read from its oldest record (TRIM_HORIZON), also after a restart on kept data: the records still in
    the stream are delivered again, which the stream function takes in its stride (it records a version once and
    publishes an event once). A batch whose invocation fails, or whose partial response names failed records, is
    retried from the first failed record, up to MaximumRetryAttempts times one second apart; then it is dropped with a
    message (in AWS it would go to the OnFailure destination).
    """

    def __init__(
        self,
        source: StreamSource,
        function: LocalFunction,
        reader: StreamReader,
        region: str,
        log: Callable[[str], None],
    ) -> None:
        self.source = source
        self.function = function
        self.reader = reader
        self.region = region
        self.log = log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"stream-{source.function}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Stop polling (an invocation under way finishes first); False if it did not stop within `timeout`."""
        self._stop.set()
        if self._thread.ident is not None:  # a stop during start-up may come before the thread was started
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for batch in self.reader.batches(self.source.batch_size):
                    self.deliver(batch.records)
            except Exception:
                # DynamoDB Local going away while stopping, or a bug here: say so, and keep polling more slowly
                if not self._stop.is_set():
                    self.log(f"stream {self.source.table}: polling failed:\n{traceback.format_exc().rstrip()}")
                self._stop.wait(_STREAM_RETRY_SECONDS * 5)
            self._stop.wait(_STREAM_POLL_SECONDS)

    def deliver(self, records: list[dict[str, Any]]) -> None:
        """Invoke the function on the records its filter selects, retrying failures as Lambda does."""
        selected = [record for record in records if self.source.selects(record)]
        retries = self.source.maximum_retry_attempts
        attempts_left = _LOCAL_RETRY_CAP if retries < 0 else retries
        name = f"{self.source.table} stream -> {self.function.spec.logical_id}"
        while selected and not self._stop.is_set():
            invocation = invoke(self.function, {"Records": selected}, self.region)
            failed_from = self._failed_from(invocation, selected)
            failed = 0 if failed_from is None else len(selected) - selected.index(failed_from)
            milliseconds = invocation.elapsed_seconds * 1000
            self.log(f"{name}: {len(selected)} record(s), {failed} to retry, {milliseconds:.1f} ms")
            if invocation.error is not None:
                self.log(f"{self.function.spec.logical_id} {invocation.error}")
            if failed_from is None:
                return
            if attempts_left <= 0:
                self.log(
                    f"{name}: gave up on {failed} record(s) from sequence number "
                    f"{failed_from['dynamodb']['SequenceNumber']} (in AWS: sent to the OnFailure destination)"
                )
                return
            attempts_left -= 1
            selected = selected[selected.index(failed_from) :]
            self._stop.wait(_STREAM_RETRY_SECONDS)

    def _failed_from(self, invocation: Invocation, records: list[dict[str, Any]]) -> dict[str, Any] | None:
        if invocation.error is not None:
            return records[0]
        if not self.source.reports_item_failures:
            return None
        sequence_number = first_failed_sequence_number(invocation.result, records)
        if sequence_number is None:
            return None
        return next(record for record in records if record["dynamodb"]["SequenceNumber"] == sequence_number)


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


# --- HTTP ------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

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
    def _server(self) -> _Server:
        return cast(_Server, self.server)

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
                response = server.api.handle(request)
            self._write(response)
        finally:
            server.end()
        milliseconds = (time.perf_counter() - started) * 1000
        server.log(f"{self.command} {target} {response.status} {milliseconds:.1f} ms")

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


# --- main ------------------------------------------------------------------------------------------


def _console(stream: IO[str]) -> Callable[[str], None]:
    lock = threading.Lock()

    def write(line: str) -> None:
        with lock:
            print(line, file=stream, flush=True)

    return write


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m products_api_local.runner",
        description="Serve template.yaml's API locally on DynamoDB Local.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"HTTP port (default {DEFAULT_PORT})")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    storage = parser.add_mutually_exclusive_group()
    storage.add_argument("--in-memory", action="store_true", help="keep nothing: the data is gone when it stops")
    storage.add_argument("--data-dir", type=Path, help=f"where DynamoDB Local keeps its data (default ./{DATA_DIR})")
    parser.add_argument(
        "--dynamodb-port",
        type=int,
        help="a fixed port for DynamoDB Local (default: a free one; products-api finds it either way)",
    )
    parser.add_argument(
        "--allowed-origins",
        metavar="ORIGINS",
        help="browser origins to answer CORS for, comma-separated, as the AllowedOrigins parameter (default: none)",
    )
    return parser


def _isolate_from_aws(region: str) -> None:
    """Dummy credentials always: whatever the shell holds, nothing the runner does may reach a real AWS account."""
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(variable, None)
    os.environ["AWS_ACCESS_KEY_ID"] = "local"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105 - DynamoDB Local with -sharedDb ignores credentials
    os.environ["AWS_REGION"] = region
    os.environ["AWS_DEFAULT_REGION"] = region


def _lock_data_dir(data_dir: Path) -> IO[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / "runner.lock").open("a+b")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise RunnerError(
            f"another runner is using {data_dir}: stop it first, or use --data-dir or --in-memory"
        ) from None
    return handle


def _data_dir_is_free(data_dir: Path) -> bool:
    """No runner holds the data folder's lock (see _lock_data_dir)."""
    try:
        handle = (data_dir / "runner.lock").open("rb")
    except OSError:
        return True  # no lock file: no runner ever used it
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def _bind(host: str, port: int, log: Callable[[str], None]) -> _Server:
    try:
        return _Server((host, port), None, log)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise RunnerError(
                f"port {port} on {host} is in use (another `make serve`?): stop it, or choose another port "
                "with --port (make serve PORT=...)"
            ) from None
        raise RunnerError(f"cannot listen on {host}:{port}: {exc}") from None


class _Interrupted(Exception):
    pass


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise _Interrupted(signal.Signals(signum).name)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        # The banner must show up at once when the output is a pipe (a test, `tee`).
        sys.stdout.reconfigure(line_buffering=True)
    log = _console(sys.stderr)
    # Ctrl-C and SIGTERM both unwind through the `finally` below, which stops whatever was started.
    signal.signal(signal.SIGINT, _raise_interrupted)
    signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        return _run(arguments, log)
    except RunnerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except _Interrupted:
        return 0


def _run(arguments: argparse.Namespace, log: Callable[[str], None]) -> int:
    started = time.monotonic()
    root = project_root()
    try:
        template = load_template()
        table_names = local_table_names(template)
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        specs = function_specs(template, root, table_names, region)
        routes = RouteTable(routes_from_template(template))
        sources = stream_sources_from_template(template)
        origins = cors.default_origins(template) if arguments.allowed_origins is None else arguments.allowed_origins
        cors_policy = cors.policy_from_template(template, origins)
    except (TemplateError, RouteError, StreamSourceError, cors.CorsConfigurationError) as exc:
        raise RunnerError(str(exc)) from None
    for source in sources:
        if source.table not in table_names:
            raise RunnerError(f"template.yaml: {source.function} reads the stream of {source.table}, not a table")
    if not routes.routes:
        raise RunnerError("template.yaml declares no HttpApi route: nothing to serve")
    environment = shared_environment(specs)
    data_dir = None if arguments.in_memory else (arguments.data_dir or root / DATA_DIR).resolve()

    server = _bind(arguments.host, arguments.port, log)
    port = server.server_address[1]
    lock: IO[bytes] | None = None
    database: DynamoDBLocal | None = None
    serving: threading.Thread | None = None
    sink: EventsSink | None = None
    pollers: list[StreamPoller] = []
    published: Path | None = None
    local_s3: s3_local.LocalS3 | None = None
    try:
        if data_dir is not None:
            lock = _lock_data_dir(data_dir)
        _isolate_from_aws(region)
        # Before any handler module is imported: some read their environment at import (Powertools' logger).
        os.environ.update(environment)
        # The console shows the function's one JSON log line per request; its EMF metric blob (a second JSON line
        # per request, for CloudWatch) is left out, and there is no X-Ray daemon to trace to. A variable set in the
        # shell wins: POWERTOOLS_METRICS_DISABLED=false make serve prints the metrics too.
        for variable in ("POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_TRACE_DISABLED"):
            os.environ.setdefault(variable, "true")
        handlers: dict[str, Handler] = {}
        import_failure: list[BaseException] = []

        def import_all() -> None:
            try:
                importlib.import_module("products_api_local.demo")
                for logical_id, spec in specs.items():
                    handlers[logical_id] = import_handler(spec)
            except BaseException as exc:  # re-raised in the main thread
                import_failure.append(exc)

        # Importing the handlers (pydantic, Powertools, boto3) overlaps with the JVM's start.
        importer = threading.Thread(target=import_all, name="import-handlers", daemon=True)
        importer.start()
        log_file = data_dir / "dynamodb-local.log" if data_dir is not None else None
        database = DynamoDBLocal(port=arguments.dynamodb_port, data_dir=data_dir, log_file=log_file)
        try:
            database.start()
        except DynamoDBLocalError as exc:
            raise RunnerError(str(exc)) from None
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = database.endpoint_url
        # `products-api` reads it to find this database. In memory too (the file alone goes to ./.dynamodb), unless a
        # runner on ./.dynamodb holds it: that one's database stays the one the CLI finds.
        endpoint_dir = data_dir or root / DATA_DIR
        if data_dir is not None or _data_dir_is_free(endpoint_dir):
            published = publish_endpoint(endpoint_dir, database.endpoint_url, region)
        client = boto3.client("dynamodb", endpoint_url=database.endpoint_url, region_name=region)
        try:
            create_tables(client, table_names, template)
        except TemplateError as exc:
            raise RunnerError(str(exc)) from None
        importer.join()
        if import_failure:
            failure = import_failure[0]
            if isinstance(failure, RunnerError):
                raise failure
            raise RunnerError(
                "cannot import a handler:\n" + "".join(traceback.format_exception(failure)).rstrip()
            ) from None
        from products_api_local.demo import ensure_demo

        demo, seeded = ensure_demo(
            client,
            _table_for(environment, "PRODUCTS_TABLE_NAME", table_names),
            _table_for(environment, "CREDENTIALS_TABLE_NAME", table_names),
            data_dir,
        )

        functions = {logical_id: LocalFunction(specs[logical_id], handlers[logical_id]) for logical_id in specs}
        # The template's buckets on moto's S3 server, their notifications delivered to the functions (issue 15).
        local_s3 = s3_local.LocalS3(template, region, log)
        local_s3.start()
        local_s3.start_notifications(
            lambda logical_id, event: invoke(functions[logical_id], event, region).error,
        )
        if sources:
            # Before any function makes its EventBridge client: boto3 reads the endpoint when it makes one.
            sink = EventsSink(log)
            sink.start()
            os.environ["AWS_ENDPOINT_URL_EVENTBRIDGE"] = sink.endpoint_url
            streams = boto3.client("dynamodbstreams", endpoint_url=database.endpoint_url, region_name=region)
            for source in sources:
                table = table_names[source.table]
                try:
                    arn = stream_arn(client.describe_table(TableName=table)["Table"], table)
                except StreamSourceError as exc:
                    raise RunnerError(str(exc)) from None
                reader = StreamReader(streams, arn, region)
                pollers.append(StreamPoller(source, functions[source.function], reader, region, log))
        server.api = LocalApi(routes, functions, ApiGateway(forwarded_port=port), region, log, cors_policy)
        serving = threading.Thread(target=server.serve_forever, name="http", daemon=True)
        serving.start()
        _print_banner(
            arguments.host, port, database, data_dir, demo, seeded, routes, specs, sources, time.monotonic() - started
        )
        for poller in pollers:
            poller.start()
        # A timed wait, not a bare one: the kernel may deliver the signal to any thread, and Python runs its handler
        # only when the main thread next executes bytecode.
        forever = threading.Event()
        while not forever.wait(0.2):
            pass
        return 0  # pragma: no cover - the loop above only ends by the signal handler's exception
    finally:
        # A second Ctrl-C must not cut the stop short: it is bounded by DynamoDBLocal.stop's own timeout.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if serving is not None:
            print("\nstopping: HTTP server", end="", flush=True)
            server.shutdown()
        server.server_close()
        if serving is not None and not server.wait_idle(_DRAIN_SECONDS):
            log(f"requests still running after {_DRAIN_SECONDS:.0f} s are abandoned")
        if pollers:
            print(", streams", end="", flush=True)
        for poller in pollers:
            if not poller.stop(_DRAIN_SECONDS):
                log(f"{poller.source.function} still running after {_DRAIN_SECONDS:.0f} s is abandoned")
        if sink is not None:
            sink.stop()
        if local_s3 is not None:
            local_s3.stop()
        if database is not None:
            if serving is not None:
                print(", DynamoDB Local", end="", flush=True)
            if published is not None:
                withdraw_endpoint(published.parent, database.endpoint_url)
            database.stop()
        if lock is not None:
            lock.close()
        if serving is not None:
            print(": stopped", flush=True)


def _table_for(environment: Mapping[str, str], variable: str, table_names: Mapping[str, str]) -> str:
    if variable in environment:
        return environment[variable]
    raise RunnerError(f"no function sets {variable}; the demo data needs it (tables: {', '.join(table_names)})")


def _url_host(host: str) -> str:
    if host in {"", "0.0.0.0", "::"}:  # noqa: S104 - listening everywhere: clients on this machine use loopback
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _print_banner(
    host: str,
    port: int,
    database: DynamoDBLocal,
    data_dir: Path | None,
    demo: Demo,
    seeded: bool,
    routes: RouteTable,
    specs: Mapping[str, FunctionSpec],
    sources: Sequence[StreamSource],
    startup_seconds: float,
) -> None:
    base_url = f"http://{_url_host(host)}:{port}"
    storage = (
        f"{data_dir} (kept across restarts; delete it to start over)"
        if data_dir is not None
        else "in memory (gone when the runner stops)"
    )
    lines = [
        "",
        f"Products API running at {base_url} (started in {startup_seconds:.1f} s)",
        f"  DynamoDB Local: {database.endpoint_url}",
        f"  Local S3:       {os.environ.get('AWS_ENDPOINT_URL_S3', '-')} (moto's server)",
        f"  Image URLs:     {os.environ.get('IMAGES_BASE_URL', '-')}/images/...",
        f"  Data:           {storage}",
        f"  Demo data:      {'seeded now' if seeded else 'found from an earlier start'} (company {demo.company})",
        f"  Demo product:   {demo.productId}",
        f"  Demo API key:   {demo.token}",
        f"  API reference:  {docs_url(base_url)} (try it in a browser: Authorize with the demo API key)",
        "  Routes:",
    ]
    for route in routes.routes:
        spec = specs[route.function]
        lines.append(f"    {route.route_key} -> {route.function} ({spec.handler}, timeout {spec.timeout_seconds} s)")
    if sources:
        lines.append("  Streams (events published to EventBridge are printed here, not delivered):")
    for source in sources:
        lines.append(f"    {source.table} -> {source.function} ({specs[source.function].handler})")
    from products_api_local.demo import curl_example, history_curl_example

    lines += [
        "",
        "Try it:",
        "",
        curl_example(base_url, demo),
        "",
        "and read its history:",
        "",
        history_curl_example(base_url, demo),
        "",
        "Press Ctrl-C to stop (the API, then DynamoDB Local).",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
