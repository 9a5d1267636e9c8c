"""Serve the routes of template.yaml over HTTP on DynamoDB Local, as Lambda would run them: the API as a user calls it.

    python -m products_api_local.runner [--port 3000] [--host 127.0.0.1] [--in-memory] [--data-dir PATH]
                                        [--concurrency 8] [--provisioned 1] [--dynamodb-port PORT]
                                        [--allowed-origins ORIGINS]

No Docker: each function of the template runs in containers of its own (`products_api_local.functions`): worker
processes that import the handler from its CodeUri folder with the environment the template gives the function
(table references resolved to the local tables), then take one invocation at a time while warm. Requests are served
side by side; when every container of a function is busy, a new one starts (a cold start, shown on the console
line), up to the function's ReservedConcurrentExecutions or --concurrency. One container per function (or
--provisioned) is started with the runner, so a handler that cannot be imported stops the start with its traceback.
Containers fork from a process that has imported the functions' libraries (boto3, pydantic, Powertools) once, so a
cold start costs the handler's own init.

Functions fed by a DynamoDB stream (`Type: DynamoDB` events) are fed as Lambda's event source feeds them
(`products_api_local.streams`): batch size, filter, partial batch responses, bisection, retries, a local dead-letter
file and a checkpoint per shard under the data directory. Their EventBridge client reaches a local PutEvents sink
(AWS_ENDPOINT_URL_EVENTBRIDGE), which prints each event and delivers it nowhere.

The template's S3 buckets live in moto's S3 server (`products_api_local.s3_local`); a function's `Type: S3` event is
delivered by a poll of the bucket, which invokes the function in its containers as the stream pollers do. A CDN
stand-in serves the images/ prefix at the functions' IMAGES_BASE_URL. `/docs` serves the interactive API reference
(Swagger UI on docs/openapi.json); `--allowed-origins` answers CORS as the template's AllowedOrigins parameter does.

DynamoDB Local keeps its data in `.dynamodb/` (git-ignored) unless `--in-memory`; the tables of the template are
created when missing, and its endpoint is written to `.dynamodb/endpoint.json` for other local tools. The first start
seeds a demo company, product and API key and prints a curl request for them. Ctrl-C (or SIGTERM) stops the HTTP
server, the stream pollers, the containers, then DynamoDB Local.

As API Gateway and Lambda would: a handler that raises, returns an unusable result or runs past its Timeout gets
500 `{"message":"Internal Server Error"}` (the traceback or reason is printed here); a body over 10 MiB gets 413.
AWS credentials are always dummy ones, whatever the shell holds, so nothing reaches a real account.
The function's JSON log line per request is shown; its EMF metrics and X-Ray tracing are off
(POWERTOOLS_METRICS_DISABLED and POWERTOOLS_TRACE_DISABLED default to true here; set them in the shell to override).
"""

from __future__ import annotations

import argparse
import fcntl
import importlib
import io
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING

import boto3

from products_api_local import cors
from products_api_local.apigateway.events import ApiGateway
from products_api_local.apigateway.routes import RouteError, RouteTable
from products_api_local.apigateway.server import ApiServer, LocalApi, ServerError, bind
from products_api_local.banner import print_banner
from products_api_local.dynamodb_local import DynamoDBLocal, DynamoDBLocalError, publish_endpoint, withdraw_endpoint
from products_api_local.functions.containers import FunctionContainers
from products_api_local.functions.context import DEFAULT_REGION
from products_api_local.functions.isolation import isolate_from_aws
from products_api_local.functions.startup import ContainerStartError, start_containers
from products_api_local.sinks.eventbridge import EventsSink
from products_api_local.streams.checkpoints import Checkpoints
from products_api_local.streams.dead_letters import DEAD_LETTER_FILE, DeadLetters
from products_api_local.streams.poller import StreamPoller
from products_api_local.streams.reader import StreamReader, stream_arn
from products_api_local.streams.sources import StreamSourceError
from products_api_local.template.document import TemplateError
from products_api_local.template.functions import FunctionSpec
from products_api_local.template.model import LocalTemplate
from products_api_local.template.tables import create_tables

if TYPE_CHECKING:
    from products_api_local.s3_local import LocalS3

DEFAULT_PORT = 3000
DEFAULT_HOST = "127.0.0.1"
DATA_DIR = ".dynamodb"
# Containers per function when the template reserves no concurrency for it (Lambda's account default is 1000; a
# laptop has a few cores, and each container is a Python process of ~100 MB).
DEFAULT_CONCURRENCY = 8
# How long a stop waits for requests already being handled.
_DRAIN_SECONDS = 5.0


class RunnerError(RuntimeError):
    """The runner cannot start: the message says why and what to do."""


def _console(stream: IO[str]) -> Callable[[str], None]:
    lock = threading.Lock()

    def write(line: str) -> None:
        # One write per line, newline included (print writes the newline apart): the containers write their log
        # lines to the same file at the same time, and a line of theirs must not land inside one of ours.
        with lock:
            stream.write(line + "\n")
            stream.flush()

    return write


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m products_api_local.runner",
        description="Serve template.yaml's API locally on DynamoDB Local.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"HTTP port (default {DEFAULT_PORT})")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help="containers per function at most, where the template sets no ReservedConcurrentExecutions "
        f"(default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--provisioned",
        type=int,
        default=1,
        help="containers per function started with the runner and kept warm, as Lambda's provisioned concurrency "
        "(default 1; more start on demand, up to the cap)",
    )
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


class _Interrupted(Exception):
    pass


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise _Interrupted(signal.Signals(signum).name)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    for option in ("concurrency", "provisioned"):
        if getattr(arguments, option) < 1:
            print(f"error: --{option} must be at least 1", file=sys.stderr)
            return 2
    if isinstance(sys.stdout, io.TextIOWrapper):
        # The banner must show up at once when the output is a pipe (a test, `tee`).
        sys.stdout.reconfigure(line_buffering=True)
    log = _console(sys.stderr)
    # Ctrl-C and SIGTERM both unwind through the `finally` below, which stops whatever was started.
    signal.signal(signal.SIGINT, _raise_interrupted)
    signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        return _run(arguments, log)
    except (RunnerError, ServerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except _Interrupted:
        return 0


def _run(arguments: argparse.Namespace, log: Callable[[str], None]) -> int:
    started = time.monotonic()
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    try:
        template = LocalTemplate.load(region=region)
        routes = RouteTable(template.routes)
        origins = (
            cors.default_origins(template.document) if arguments.allowed_origins is None else arguments.allowed_origins
        )
        cors_policy = cors.policy_from_template(template.document, origins)
    except (TemplateError, RouteError, StreamSourceError, cors.CorsConfigurationError) as exc:
        raise RunnerError(str(exc)) from None
    if not routes.routes:
        raise RunnerError("template.yaml declares no HttpApi route: nothing to serve")
    root = template.root
    data_dir = None if arguments.in_memory else (arguments.data_dir or root / DATA_DIR).resolve()
    # Dead letters are kept even without a data directory: they are what a user needs to look at afterwards.
    state_dir = data_dir if data_dir is not None else (root / DATA_DIR).resolve()

    server = bind(arguments.host, arguments.port, log)
    port = server.server_address[1]
    lock: IO[bytes] | None = None
    database: DynamoDBLocal | None = None
    serving: threading.Thread | None = None
    sink: EventsSink | None = None
    published: Path | None = None
    local_s3: LocalS3 | None = None
    pools: dict[str, FunctionContainers] = {}
    pollers: list[StreamPoller] = []
    try:
        if data_dir is not None:
            lock = _lock_data_dir(data_dir)
        isolate_from_aws(os.environ, region)
        demo_import = ThreadPoolExecutor(max_workers=1)
        # Importing the demo's models (pydantic) overlaps with the JVM's start.
        demo_loaded = demo_import.submit(importlib.import_module, "products_api_local.demo")
        demo_import.shutdown(wait=False)
        log_file = data_dir / "dynamodb-local.log" if data_dir is not None else None
        database = DynamoDBLocal(requested_port=arguments.dynamodb_port, data_dir=data_dir, log_file=log_file)
        try:
            database.start()
        except DynamoDBLocalError as exc:
            raise RunnerError(str(exc)) from None
        endpoints = {"AWS_ENDPOINT_URL_DYNAMODB": database.endpoint_url}
        os.environ.update(endpoints)
        client = boto3.client("dynamodb", endpoint_url=database.endpoint_url, region_name=region)
        try:
            create_tables(client, dict(template.table_names), template.document)
        except TemplateError as exc:
            raise RunnerError(str(exc)) from None
        # `products-api` reads it to find this database. In memory too (the file alone goes to ./.dynamodb), unless a
        # runner on ./.dynamodb holds it: that one's database stays the one the CLI finds.
        endpoint_dir = data_dir or root / DATA_DIR
        if data_dir is not None or _data_dir_is_free(endpoint_dir):
            published = publish_endpoint(endpoint_dir, database.endpoint_url, region)
        # The template's buckets on moto's S3 server (issue 15); their endpoint and the image URL base reach the
        # functions' containers with the other endpoints. Imported here: moto's server takes a while to import.
        from products_api_local.s3_local import LocalS3

        local_s3 = LocalS3(template.document, region, log)
        local_s3.start()
        endpoints.update(local_s3.environment)
        if template.stream_sources:
            sink = EventsSink(log)
            sink.start()
            endpoints["AWS_ENDPOINT_URL_EVENTBRIDGE"] = sink.url
        try:
            pools = start_containers(template, endpoints, arguments.concurrency, log, arguments.provisioned)
        except ContainerStartError as exc:
            raise RunnerError(str(exc)) from None
        try:
            demo_loaded.result()
        except Exception:
            raise RunnerError("cannot import the demo data:\n" + traceback.format_exc().rstrip()) from None
        from products_api_local.demo import ensure_demo

        demo, seeded = ensure_demo(
            client,
            _table_for(template.functions, "PRODUCTS_TABLE_NAME", template.table_names),
            _table_for(template.functions, "CREDENTIALS_TABLE_NAME", template.table_names),
            data_dir,
        )
        if template.stream_sources:
            streams = boto3.client("dynamodbstreams", endpoint_url=database.endpoint_url, region_name=region)
            dead_letters = DeadLetters(state_dir / DEAD_LETTER_FILE)
            for source in template.stream_sources:
                table = template.table_names[source.table]
                try:
                    arn = stream_arn(client.describe_table(TableName=table)["Table"], table)
                except StreamSourceError as exc:
                    raise RunnerError(str(exc)) from None
                checkpoints = Checkpoints(
                    data_dir / "checkpoints" / f"{source.function}-{source.table}.json" if data_dir else None
                )
                reader = StreamReader(streams, arn, region, checkpoints=checkpoints.positions())
                pollers.append(
                    StreamPoller(
                        source,
                        pools[source.function],
                        reader,
                        log,
                        checkpoints=checkpoints,
                        dead_letters=dead_letters,
                    )
                )
        # S3 notifications invoke the subscribed function in its containers, as the stream pollers do.
        local_s3.start_notifications(lambda function, event: pools[function].invoke(event).error)
        server.api = LocalApi(routes, pools, ApiGateway(forwarded_port=port), log, cors_policy)
        serving = threading.Thread(target=server.serve_forever, name="http", daemon=True)
        serving.start()
        print_banner(
            arguments.host,
            port,
            database,
            data_dir,
            demo,
            seeded,
            routes,
            template,
            pools,
            state_dir / DEAD_LETTER_FILE,
            time.monotonic() - started,
            local_s3,
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
        _stop(server, serving, pollers, pools, sink, local_s3, database, published, lock, log)


def _stop(
    server: ApiServer,
    serving: threading.Thread | None,
    pollers: Sequence[StreamPoller],
    pools: Mapping[str, FunctionContainers],
    sink: EventsSink | None,
    local_s3: LocalS3 | None,
    database: DynamoDBLocal | None,
    published: Path | None,
    lock: IO[bytes] | None,
    log: Callable[[str], None],
) -> None:
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
    # Before the containers: its notification polls invoke them.
    if local_s3 is not None:
        if serving is not None:
            print(", local S3", end="", flush=True)
        local_s3.stop(_DRAIN_SECONDS)
    if pools and serving is not None:
        print(", containers", end="", flush=True)
    for pool in pools.values():
        pool.stop()
    if sink is not None:
        sink.stop()
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


def _table_for(functions: Mapping[str, FunctionSpec], variable: str, table_names: Mapping[str, str]) -> str:
    for spec in functions.values():
        if variable in spec.environment:
            return spec.environment[variable]
    raise RunnerError(f"no function sets {variable}; the demo data needs it (tables: {', '.join(table_names)})")


if __name__ == "__main__":
    sys.exit(main())
