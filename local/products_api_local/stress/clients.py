"""The clients: separate processes, each drawing its own requests from its own seed, recording every answer."""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import random
import time
import uuid
import warnings
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import boto3
from products_api.core.dynamodb import to_attribute_values
from products_api.products.service import IDEMPOTENCY_KEY_PREFIX

from products_api_local.stress.constants import COMPANY, REGION
from products_api_local.stress.transports import TRANSPORTS, Answer, Request, Transport

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


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
    # the faults drawn from (None: all; over HTTP only the idempotency records' loss and expiry: stress/over_http.py)
    faults: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Resend:
    """A request that sends an earlier request's key again, after that request's record was lost or expired."""

    # the earlier request (its `Entry.ident`)
    of: str
    # "lost_record" (the same request again) or "expired_record" (another body with the key)
    reason: str


@dataclass
class Entry:
    """One request and its answer, as recorded."""

    request: Request
    answer: Answer
    started: float
    ended: float
    resend: Resend | None = None

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

    def _send(self, request: Request, resend: Resend | None = None) -> Entry:
        started = time.time()
        answer = self.transport(request)
        entry = Entry(request, answer, started, time.time(), resend)
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
            self._send(rerun, Resend(entry.ident, "lost_record"))
        elif inject == "expired_record" and entry.answer.status is not None:
            # the record expired: the key is free, and another body with it is a new request
            self._idempotency("expire", headers["Idempotency-Key"])
            self.seq += 1
            other = self._body("field")
            fresh = Request(self.worker, self.seq, "field", product_id, other, dict(headers), None, remaining_ms)
            self._send(fresh, Resend(entry.ident, "expired_record"))


@dataclass(frozen=True)
class _IdempotencyRecords:
    """Lose or expire a key's record, as a crash or DynamoDB's TTL would (Powertools keys records by a hash)."""

    client: DynamoDBClient
    table: str

    def __call__(self, action: str, key: str) -> None:
        record_ids = self._ids_for(key)
        for record_id in record_ids:
            item_key = to_attribute_values({"id": record_id})
            if action == "delete":
                self.client.delete_item(TableName=self.table, Key=item_key)
            else:
                self.client.update_item(
                    TableName=self.table,
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
                    Resend(**raw["resend"]) if raw["resend"] else None,
                )
            )
    return entries
