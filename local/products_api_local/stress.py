"""A history checker for the update path, after Jepsen and Elle: many clients in separate processes (each like a
Lambda container: its own runtime and DynamoDB client, no lock between them) send a mix of requests, with faults
injected, and record every request and answer; then the history is checked against DynamoDB's own record of what
happened (the products table's stream, which the change history is made from) and the table's final state.

`python -m products_api_local.stress` (`make stress ARGS="--duration 120 --processes 4"`) starts DynamoDB Local, runs
the mix and prints the count of each outcome and every violation; tests/test_history_checker.py runs a short one.

Clients reach the API through a transport: a callable taking a `Request` and returning an `Answer`. The default one
calls the update function's `lambda_handler` in the client's process and injects the faults into its DynamoDB client;
the "http" one (stress_http, `--http`) sends them to the local runner. Each is registered in `TRANSPORTS`.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import importlib
import json
import multiprocessing
import os
import random
import sys
import time
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.config import Config
from botocore.httpsession import URLLib3Session
from products_api.auth.credentials import Credential, token_hash
from products_api.core import jsonio
from products_api.core.dynamodb import from_attribute_values, make_client, to_attribute_values
from products_api.products.items import ProductItem
from products_api.products.models import Product, model_lock_sort_key
from products_api.products.responses import ProductResponse
from products_api.products.service import IDEMPOTENCY_KEY_PREFIX, keyed_write_id
from products_api.products.store import ProductStore

from products_api_local.streams.reader import StreamReader, stream_arn
from products_api_local.template.document import load_template, project_root
from products_api_local.template.tables import create_tables, table_definitions

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

REGION = "eu-west-1"
COMPANY = "STRESS"
TOKEN = "tp_stress_checker_token_000000000000000000"  # noqa: S105  # a local test credential
# The variables the update function reads its tables from (template.yaml), by logical id.
TABLE_ENV_VARS = {
    "ProductsTable": "PRODUCTS_TABLE_NAME",
    "IdempotencyTable": "IDEMPOTENCY_TABLE_NAME",
    "CredentialsTable": "CREDENTIALS_TABLE_NAME",
    "HistoryTable": "HISTORY_TABLE_NAME",
    "LimitsTable": "LIMITS_TABLE_NAME",
}
# The write rate is on (every write pays the limiter's call) but never reached by itself: the `rate_limited` fault
# refuses chosen requests, so a refusal lands between other clients' writes and must leave no trace.
WRITE_RATE_PER_MINUTE = "1000000"
# Kept for replay by the contract: a repeat with the same key must answer exactly this again.
KEPT_CODES = frozenset({None, "not_found", "duplicate_model", "precondition_failed"})
API_FIELDS = ("name", "model", "description", "defaultFieldValues", "imageUrls", "status", "sourceLocale")


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
def write_then_die(client: Any, operations: frozenset[str], table: str) -> Iterator[list[int]]:
    """The first product write reaches DynamoDB and is applied; then the invocation dies before answering."""
    sent: list[int] = []
    http = URLLib3Session()

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        name, table_name = _target(request)
        if name not in operations or (name == "UpdateItem" and table_name != table) or sent:
            return None
        sent.append(http.send(request).status_code)
        raise InvocationLost(name)

    with _before_send(client, before_send):
        yield sent


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
    from products_api_local.stress_http import HttpTransport  # imports this module: imported when first used

    return HttpTransport()


TRANSPORTS: dict[str, Callable[[], Transport]] = {"handler": HandlerTransport, "http": _http_transport}


# --- the clients --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What the clients do: shared by every process (each draws its own requests from its own seed)."""

    processes: int
    duration_seconds: float
    product_ids: tuple[str, ...]
    models: tuple[str, ...]
    seed: int
    transport: str = "handler"
    # share of requests with an injected fault (the handler transport only)
    fault_rate: float = 0.2
    # the faults drawn from (None: all; over HTTP only the idempotency records' loss and expiry: stress_http)
    faults: tuple[str, ...] | None = None


@dataclass
class Entry:
    """One request and its answer, as recorded."""

    request: Request
    answer: Answer
    started: float
    ended: float
    # the request whose key this one sends again, after its record was lost or expired
    after: str | None = None
    # why: "lost_record" (the same request again) or "expired_record" (another body with the key)
    reason: str | None = None

    @property
    def key(self) -> str | None:
        return self.request.headers.get("Idempotency-Key")

    @property
    def ident(self) -> str:
        return f"{self.request.worker}/{self.request.seq}"


_NAMES = ("Pack", "Charger", "Cable", "Cell", "Module")


class _Client:
    def __init__(self, plan: Plan, worker: int, transport: Transport, idempotency: Any) -> None:
        self.plan = plan
        self.worker = worker
        self.transport = transport
        # reproducible from the seed, not secret: the workload, not a key
        self.random = random.Random(plan.seed * 1000 + worker)  # noqa: S311
        self.seq = 0
        self.entries: list[Entry] = []
        self.seen_versions: dict[str, int] = {}
        self._idempotency = idempotency
        # keys shared by every client: key index -> one product and body (a repeat is a replay, or in progress)
        self.shared = [
            (str(uuid.UUID(int=random.Random(plan.seed + index).getrandbits(128), version=4)), index)  # noqa: S311
            for index in range(8)
        ]

    def _body(self, kind: str) -> dict[str, Any] | str:
        r = self.random
        if kind == "rename":
            model = r.choice(self.plan.models)
            return {"model": model.lower() if r.random() < 0.3 else model}
        if kind == "empty":
            return {}
        if kind == "invalid":
            invalid: list[dict[str, Any]] = [{"name": ""}, {"model": "A\u200bB"}, {"status": "gone"}, {"version": 3}]
            return r.choice(invalid)
        choice = r.randrange(4)
        if choice == 0:
            return {"name": f"{r.choice(_NAMES)} {self.worker}-{self.seq}"}
        if choice == 1:
            return {"description": None if r.random() < 0.3 else f"d {self.worker}-{self.seq}"}
        if choice == 2:
            return {"status": r.choice(["active", "archived"])}
        return {"defaultFieldValues": {"n": self.seq, "w": self.worker}, "name": f"both {self.worker}-{self.seq}"}

    def _send(self, request: Request, after: str | None = None, reason: str | None = None) -> Entry:
        started = time.time()
        answer = self.transport(request)
        entry = Entry(request, answer, started, time.time(), after, reason)
        self.entries.append(entry)
        if answer.status == 200:
            self.seen_versions[request.product_id] = int(json.loads(answer.body)["version"])
        return entry

    def step(self) -> None:
        r = self.random
        self.seq += 1
        kind = r.choices(["field", "rename", "empty", "invalid", "missing"], weights=[55, 30, 7, 5, 3])[0]
        product_id = "0" * 24 if kind == "missing" else r.choice(self.plan.product_ids)
        body = self._body(kind)
        headers: dict[str, str] = {}
        if r.random() < 0.25 and product_id in self.seen_versions:
            # If-Match with the version this client saw last: current, or stale by now
            headers["If-Match"] = f'"{self.seen_versions[product_id]}"'
        fault: str | None = None
        remaining_ms = 10_000
        if (self.plan.transport == "handler" or self.plan.faults) and r.random() < self.plan.fault_rate:
            fault = r.choice(
                self.plan.faults
                or [
                    "conflict",
                    "conflict_forever",
                    "throttle",
                    "write_then_die",
                    "lost_record",
                    "expired_record",
                    "rate_limited",
                ]
            )
        if fault == "conflict_forever":
            remaining_ms = 2300  # a few hundred milliseconds of retries before 409 concurrent_update
        if fault == "write_then_die":
            remaining_ms = 1500  # the dead invocation's in-progress record expires with its time
        roll = r.random()
        if fault in {"write_then_die", "lost_record", "expired_record"} or roll < 0.5:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        elif roll < 0.7:
            key, index = r.choice(self.shared)
            headers["Idempotency-Key"] = key
            # mostly the key's own product and body: a replay; else a reuse (422)
            shared_random = random.Random(index)  # noqa: S311
            product_id = shared_random.choice(self.plan.product_ids)
            body = {"name": f"shared {index}"} if r.random() < 0.85 else {"name": f"reuse {self.worker}-{self.seq}"}
        if fault in {"lost_record", "expired_record"}:
            inject, fault = fault, None
        else:
            inject = None
        request = Request(self.worker, self.seq, kind, product_id, body, headers, fault, remaining_ms)
        entry = self._send(request)
        if inject == "lost_record" and entry.answer.status is not None:
            # the record is lost (a crash after the write): the same request again applies nothing twice
            self._idempotency("delete", headers["Idempotency-Key"])
            self.seq += 1
            rerun = Request(self.worker, self.seq, kind, product_id, body, headers, None, remaining_ms)
            self._send(rerun, after=entry.ident, reason="lost_record")
        elif inject == "expired_record" and entry.answer.status is not None:
            # the record expired: the key is free, and another body with it is a new request
            self._idempotency("expire", headers["Idempotency-Key"])
            self.seq += 1
            other = self._body("field")
            fresh = Request(self.worker, self.seq, "field", product_id, other, dict(headers), None, remaining_ms)
            self._send(fresh, after=entry.ident, reason="expired_record")


class _IdempotencyRecords:
    """Lose or expire a key's record, as a crash or DynamoDB's TTL would (Powertools keys records by a hash)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def __call__(self, action: str, key: str) -> None:
        record_ids = self._ids_for(key)
        for record_id in record_ids:
            item_key = to_attribute_values({"id": record_id})
            if action == "delete":
                self._client.delete_item(TableName=self._table, Key=item_key)
            else:
                self._client.update_item(
                    TableName=self._table,
                    Key=item_key,
                    UpdateExpression="SET #expiration = :past",
                    ExpressionAttributeNames={"#expiration": "expiration"},
                    ExpressionAttributeValues=to_attribute_values({":past": int(time.time()) - 1}),
                )

    def _ids_for(self, key: str) -> list[str]:
        # Powertools: "<key prefix>#" + sha256 of the JSON of what event_key_jmespath selects ("<company>#<key>")
        digest = hashlib.sha256(json.dumps(f"{COMPANY}#{key}", sort_keys=True).encode()).hexdigest()
        return [f"{IDEMPOTENCY_KEY_PREFIX}#{digest}"]


def _client_process(plan: Plan, worker: int, environment: dict[str, str]) -> list[dict[str, Any]]:
    """One client: its own container (runtime, DynamoDB client), requests until the plan's time is up."""
    os.environ.update(environment)
    # each request's log line and metrics (printed, as Lambda's EMF) would bury the report
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        return _run_client(plan, worker, environment)


def _run_client(plan: Plan, worker: int, environment: dict[str, str]) -> list[dict[str, Any]]:
    transport = TRANSPORTS[plan.transport]()
    records = _IdempotencyRecords(
        boto3.client("dynamodb", region_name=REGION, endpoint_url=environment.get("AWS_ENDPOINT_URL_DYNAMODB")),
        environment["IDEMPOTENCY_TABLE_NAME"],
    )
    client = _Client(plan, worker, transport, records)
    stop_at = time.time() + plan.duration_seconds
    while time.time() < stop_at:
        client.step()
    return [asdict(entry) for entry in client.entries]


def run_clients(plan: Plan, environment: dict[str, str]) -> list[Entry]:
    """Every client in its own process (spawned: nothing shared but DynamoDB), all at once."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(plan.processes) as pool:
        results = pool.starmap(_client_process, [(plan, worker, environment) for worker in range(plan.processes)])
    entries = []
    for result in results:
        for raw in result:
            entries.append(
                Entry(
                    Request(**raw["request"]),
                    Answer(**raw["answer"]),
                    raw["started"],
                    raw["ended"],
                    raw["after"],
                    raw["reason"],
                )
            )
    return entries


# --- the checker --------------------------------------------------------------------------------------------------


@dataclass
class Report:
    entries: list[Entry]
    # (status or "lost", code) -> how many answers
    outcomes: Counter[str]
    faults: Counter[str]
    versions_written: int
    violations: list[str]

    def summary(self) -> str:
        lines = [f"{len(self.entries)} requests, {self.versions_written} versions written", "outcomes:"]
        lines += [f"  {count:6d}  {outcome}" for outcome, count in sorted(self.outcomes.items())]
        lines.append("injected faults:")
        lines += [f"  {count:6d}  {fault}" for fault, count in sorted(self.faults.items())]
        if self.violations:
            lines.append(f"{len(self.violations)} VIOLATIONS:")
            lines += [f"  - {violation}" for violation in self.violations[:50]]
        else:
            lines.append("no violations: every check holds")
        return "\n".join(lines)


def _outcome(entry: Entry) -> str:
    answer = entry.answer
    if answer.status is None:
        return "lost (invocation died after its write)"
    label = f"{answer.status} {answer.code or 'ok'}"
    if answer.header("Idempotent-Replayed") == "true":
        label += " (replayed)"
    return label


def _image(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A stream image (as Lambda is handed it) as Python values."""
    return from_attribute_values(dict(raw))


def _api_view(product: Product) -> Any:
    """A product as the API answers it, canonical (numbers by value, keys sorted)."""
    return json.loads(
        jsonio.canonical(json.loads(ProductResponse.from_product(product).to_json(), parse_float=Decimal))
    )


def _body_view(body: str) -> Any:
    return json.loads(jsonio.canonical(json.loads(body, parse_float=Decimal, parse_int=Decimal)))


def _write_ident(entry: Entry) -> str:
    """What makes requests one write: the same key, product and body (a re-run, a replay); else the request."""
    key = entry.key
    if key is None:
        return f"request {entry.ident}"
    body = entry.request.body
    document = jsonio.parse_object(body.encode() if isinstance(body, str) else json.dumps(body).encode())
    return keyed_write_id(COMPANY, key.strip().lower(), entry.request.product_id, jsonio.canonical(document))


def check(entries: list[Entry], stream_records: list[dict[str, Any]], final_items: list[dict[str, Any]]) -> Report:
    """Every check of the history against DynamoDB's record of it (see the module's docstring)."""
    violations: list[str] = []
    faults = Counter(entry.request.fault or entry.reason or "none" for entry in entries)
    outcomes = Counter(_outcome(entry) for entry in entries)

    # DynamoDB's record: each product's versions (stream images) in commit order, and the model locks over time
    versions: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    ordered_images: list[dict[str, Any]] = []
    for record in sorted(stream_records, key=lambda r: int(r["dynamodb"]["SequenceNumber"])):
        keys = _image(record["dynamodb"]["Keys"])
        if not str(keys["sk"]).startswith("PRODUCT#"):
            continue
        if "NewImage" not in record["dynamodb"]:
            violations.append(f"product item {keys['sk']} was deleted")
            continue
        image = _image(record["dynamodb"]["NewImage"])
        product_id = str(image["id"])
        version = int(image["version"])
        old = record["dynamodb"].get("OldImage")
        if old is not None and int(_image(old)["version"]) == version:
            continue  # housekeeping (forgetting old write ids), not a write: the stream function skips it too
        if version in versions[product_id]:
            violations.append(f"{product_id} v{version} appears twice in the stream")
        versions[product_id][version] = image
        ordered_images.append(image)

    for product_id, by_version in versions.items():
        expected = list(range(1, max(by_version) + 1))
        if sorted(by_version) != expected:
            violations.append(f"{product_id}: versions {sorted(by_version)} have gaps")

    def state(product_id: str, version: int) -> Any:
        image = versions.get(product_id, {}).get(version)
        return _api_view(ProductItem.model_validate(image).to_product()) if image else None

    # 1. every 200 appears in the history at its version with its body; a write is one version, whoever answered
    made_by: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for product_id, by_version in versions.items():
        for version, image in by_version.items():
            if image.get("writeId") is not None:  # the imports have none
                made_by[str(image["writeId"])].append((product_id, version))
    for ident, made in made_by.items():
        if len(made) > 1:
            violations.append(f"one write applied more than once: {ident} at {sorted(made)}")
    claimed: dict[tuple[str, int], str] = {}
    for entry in entries:
        answer = entry.answer
        if answer.status != 200:
            continue
        body = json.loads(answer.body)
        product_id, version = entry.request.product_id, int(body["version"])
        expected_state = state(product_id, version)
        if expected_state is None:
            violations.append(f"{entry.ident}: 200 at {product_id} v{version}, which the history does not hold")
            continue
        if _body_view(answer.body) != expected_state:
            violations.append(
                f"{entry.ident}: 200 body differs from {product_id} v{version}: {answer.body} vs {expected_state}"
            )
        if answer.header("ETag") != f'"{version}"':
            violations.append(f"{entry.ident}: ETag {answer.header('ETag')} for v{version}")
        body_sent = entry.request.body
        writes = bool(body_sent if isinstance(body_sent, dict) else json.loads(body_sent))
        if not writes or answer.header("Idempotent-Replayed") == "true":
            continue
        ident = _write_ident(entry)
        made_version = version
        if entry.key is not None:
            made = made_by.get(ident, [])
            if not made:
                violations.append(f"{entry.ident}: 200 for a write ({ident}) that made no version")
                continue
            made_version = made[0][1]
            if version < made_version:
                violations.append(f"{entry.ident}: answered v{version}, before its write made v{made_version}")
            elif version > made_version:
                # its write was applied once, earlier (a re-run after a lost record, or botocore retrying a write
                # whose response was lost), and later writes followed: it answers the product as it is now
                outcomes["200 ok, of which: its write recognised after later writes"] += 1
        owner = claimed.setdefault((product_id, made_version), ident)
        if owner != ident:
            violations.append(f"{product_id} v{made_version} answered as two writes: {owner} and {ident}")

    # 2. every version is accounted for: a 200, or a request whose answer was lost after its write
    lost_writes = {_write_ident(entry) for entry in entries if entry.answer.status is None}
    for product_id, by_version in versions.items():
        for version, image in by_version.items():
            if version == 1 or (product_id, version) in claimed:
                continue
            if image.get("writeId") in lost_writes:
                claimed[(product_id, version)] = str(image.get("writeId"))
                continue
            violations.append(f"{product_id} v{version} (write {image.get('writeId')}) was answered to nobody")

    # 3. no refused request left a trace: its write id is on no version (unkeyed ones are caught by 2.)
    refused = {_write_ident(entry) for entry in entries if entry.answer.status and 400 <= entry.answer.status < 500}
    answered = {_write_ident(entry) for entry in entries if entry.answer.status == 200}
    for product_id, by_version in versions.items():
        for version, image in by_version.items():
            if image.get("writeId") in refused - answered - lost_writes:
                violations.append(f"{product_id} v{version} was written by a request answered 4xx")

    # 4. at no version do two products hold one model key; locks match products 1:1 at the end
    holders: dict[str, str] = {}
    current_key: dict[str, str] = {}
    for image in ordered_images:
        product_id, key = str(image["id"]), str(image["modelKey"])
        previous = current_key.get(product_id)
        if previous is not None and holders.get(previous) == product_id:
            del holders[previous]
        holder = holders.get(key)
        if holder is not None and holder != product_id:
            violations.append(f"{product_id} v{image['version']} holds model key {key!r}, held by {holder}")
        holders[key] = product_id
        current_key[product_id] = key
    products = {str(item["id"]): item for item in final_items if str(item["sk"]).startswith("PRODUCT#")}
    locks = {str(item["sk"]): str(item["productId"]) for item in final_items if str(item["sk"]).startswith("MODEL#")}
    expected_locks = {model_lock_sort_key(str(item["modelKey"])): product_id for product_id, item in products.items()}
    if locks != expected_locks:
        violations.append(f"lock items {locks} do not match the products' models {expected_locks}")
    for product_id, item in products.items():
        newest = versions.get(product_id, {})
        if newest and int(item["version"]) != max(newest):
            violations.append(f"{product_id}: table at v{item['version']}, stream at v{max(newest)}")

    # 5. no 5xx beyond injected unavailability
    for entry in entries:
        status = entry.answer.status
        if status is not None and status >= 500 and not (status == 503 and entry.request.fault == "throttle"):
            violations.append(f"{entry.ident}: {status} {entry.answer.code} (fault injected: {entry.request.fault})")
        limited = entry.request.fault == "rate_limited" and entry.request.kind not in {"empty", "invalid"}
        if limited and (status, entry.answer.code) != (429, "rate_limited"):
            # `{}` skips the limiter and an invalid body is refused before it; any other write meets the refusal
            violations.append(f"{entry.ident}: the limiter refused it, yet it answered {status} {entry.answer.code}")
        if entry.request.fault == "conflict" and status == 409 and entry.answer.code == "concurrent_update":
            violations.append(f"{entry.ident}: two conflicts should be retried through, got concurrent_update")

    # 6. replays equal their first answer (kept outcomes only); re-runs after a lost record answer their write
    first: dict[str, Entry] = {}
    for entry in sorted(entries, key=lambda e: e.started):
        status = entry.answer.status
        if entry.key is None or status is None:
            continue
        ident = _write_ident(entry)
        replayed = entry.answer.header("Idempotent-Replayed") == "true"
        if replayed:
            original = first.get(ident)
            if original is None:
                # the original's answer may have been lost; the replay must then be a kept outcome
                if entry.answer.code not in KEPT_CODES:
                    violations.append(f"{entry.ident}: replayed {status} {entry.answer.code}, not a kept outcome")
                continue
            if (original.answer.status, _body_or_code(original.answer)) != (status, _body_or_code(entry.answer)):
                violations.append(f"{entry.ident}: replay {status} differs from first answer {original.ident}")
        elif entry.answer.code in KEPT_CODES:
            first.setdefault(ident, entry)

    return Report(entries, outcomes, faults, sum(len(v) - 1 for v in versions.values()), violations)


def _body_or_code(answer: Answer) -> Any:
    if answer.status == 200:
        return _body_view(answer.body)
    return answer.code


# --- a whole run ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """Tables of one run on one DynamoDB, seeded: the credential, the products and their locks."""

    endpoint_url: str
    table_names: dict[str, str]
    product_ids: tuple[str, ...]
    models: tuple[str, ...]

    @property
    def environment(self) -> dict[str, str]:
        variables = {TABLE_ENV_VARS[logical_id]: name for logical_id, name in self.table_names.items()}
        variables["AWS_ENDPOINT_URL_DYNAMODB"] = self.endpoint_url
        variables["WRITE_RATE_PER_MINUTE"] = WRITE_RATE_PER_MINUTE
        return variables

    def client(self) -> DynamoDBClient:
        return boto3.client("dynamodb", region_name=REGION, endpoint_url=self.endpoint_url)


def prepare(endpoint_url: str, products: int = 4, models: int = 6, table_names: dict[str, str] | None = None) -> Setup:
    """Create the template's tables under fresh names (unless given), a credential and `products` products holding
    the first models of a pool of `models`.
    """
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint_url)
    if table_names is None:
        prefix = f"stress-{uuid.uuid4().hex[:8]}"
        table_names = {logical_id: f"{prefix}-{logical_id}" for logical_id in table_definitions(load_template())}
        create_tables(client, table_names)
    names = {logical_id: table_names[logical_id] for logical_id in TABLE_ENV_VARS}
    now = datetime.now(UTC)
    credential = Credential(
        tokenHash=token_hash(TOKEN),
        credentialId="cred_stress",
        companyId=COMPANY,
        kind="api-key",
        scopes=["products:write"],
        createdAt=now.isoformat(),
    )
    client.put_item(
        TableName=names["CredentialsTable"], Item=to_attribute_values(credential.model_dump(exclude_none=True))
    )
    pool = tuple(f"M-{index}" for index in range(models))
    store = ProductStore(client, names["ProductsTable"])
    product_ids = []
    for index in range(products):
        product_id = f"{index + 1:024x}"
        store.create(
            Product(
                id=product_id,
                company_id=COMPANY,
                name=f"product {index}",
                model=pool[index],
                description=None,
                default_field_values={},
                image_urls=[],
                status="active",
                source_locale="en",
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
        product_ids.append(product_id)
    return Setup(endpoint_url, names, tuple(product_ids), pool)


def stream_records(setup: Setup) -> list[dict[str, Any]]:
    """Every record of the products table's stream so far: what ProductChangesFunction is handed."""
    client = setup.client()
    table = setup.table_names["ProductsTable"]
    streams = boto3.client(
        "dynamodbstreams",
        region_name=REGION,
        endpoint_url=setup.endpoint_url,
        config=Config(account_id_endpoint_mode="disabled"),
    )
    reader = StreamReader(streams, stream_arn(client.describe_table(TableName=table)["Table"], table), REGION)
    return reader.records()


def table_items(setup: Setup) -> list[dict[str, Any]]:
    client = setup.client()
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": setup.table_names["ProductsTable"], "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items.extend(from_attribute_values(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run(setup: Setup, processes: int, duration_seconds: float, seed: int, transport: str = "handler") -> Report:
    plan = Plan(processes, duration_seconds, setup.product_ids, setup.models, seed, transport)
    entries = run_clients(plan, setup.environment)
    return check(entries, stream_records(setup), table_items(setup))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m products_api_local.stress", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds the clients send requests (60)")
    parser.add_argument("--processes", type=int, default=4, help="client processes, each like a container (4)")
    parser.add_argument("--products", type=int, default=4, help="products the clients share (4)")
    parser.add_argument("--models", type=int, default=6, help="models in the pool renames draw from (6)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a fresh one, printed)")
    parser.add_argument("--transport", choices=sorted(TRANSPORTS), default="handler")
    parser.add_argument("--endpoint", help="a running DynamoDB Local's URL (default: start one)")
    parser.add_argument("--http", action="store_true", help="through the local runner over HTTP (see stress_http)")
    parser.add_argument("--base-url", help="with --http and --endpoint: a running runner's URL (default: start one)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)  # noqa: S311
    print(
        f">> stress: {args.processes} processes for {args.duration:g} s on {args.products} products, "
        f"{args.models} models, seed {seed}",
        flush=True,
    )
    # nothing reaches AWS: DynamoDB Local takes any credentials
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = REGION
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "products-api")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ProductsApi")
    # the handlers' request log lines would bury the report
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    if args.http or args.transport == "http":
        from products_api_local.stress_http import main_http

        return main_http(args, seed)
    with contextlib.ExitStack() as stack:
        endpoint = args.endpoint
        if endpoint is None:
            from products_api_local.dynamodb_local import DynamoDBLocal

            endpoint = stack.enter_context(DynamoDBLocal()).endpoint_url
        setup = prepare(endpoint, args.products, args.models)
        started = time.monotonic()
        report = run(setup, args.processes, args.duration, seed, args.transport)
        print(f">> {time.monotonic() - started:.1f} s in all")
    print(report.summary())
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
