"""Warm PATCH latency in process: the real handler vs the bare boto3 calls the same request needs.

Both sides use one DynamoDB client (made by `make_client`, as a container makes it) on one in-memory DynamoDB Local,
and are interleaved request by request (their order alternating), so drift of the machine or of the JVM hits both
alike. The handler works on one product and the bare calls on its twin, which receives exactly the same changes, so
item sizes stay equal. The bare calls send the same expressions, conditions and return options as the handler, with
attribute values written out by hand: that is the floor the handler is measured against.
"""

from __future__ import annotations

import functools
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from products_api.auth.credentials import CredentialStore
from products_api.core.dynamodb import make_client
from products_api.core.settings import load_settings
from products_api.products.models import Product
from products_api.products.runtime import Runtime
from products_api.products.store import ProductStore

from products_api_local.bench.bare_calls import COMPANY, IMAGE_URLS, BareCalls
from products_api_local.bench.capacity import CapacityLog, CapacityMeter
from products_api_local.bench.footprint import Footprint, footprint
from products_api_local.bench.handler import Events, QuietHandler, handler_module
from products_api_local.bench.stats import percentile
from products_api_local.functions.context import LambdaContext, begin_invocation
from products_api_local.functions.isolation import aws_isolation
from products_api_local.functions.isolation import isolate_from_aws as isolate
from products_api_local.template.document import load_template
from products_api_local.template.tables import create_tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

REGION = "eu-west-1"
# template.yaml's logical ids -> the variables UpdateProductFunction reads them from
TABLE_ENV_VARS = {
    "ProductsTable": "PRODUCTS_TABLE_NAME",
    "IdempotencyTable": "IDEMPOTENCY_TABLE_NAME",
    "CredentialsTable": "CREDENTIALS_TABLE_NAME",
}
HANDLER_PRODUCT = "bbbbbbbbbbbbbbbbbbbbbb01"
BARE_PRODUCT = "bbbbbbbbbbbbbbbbbbbbbb02"


def bench_environment(endpoint_url: str, table_names: dict[str, str]) -> dict[str, str]:
    """The function's environment (template.yaml), pointed at DynamoDB Local, with dummy credentials only."""
    return {
        **aws_isolation(REGION, "bench"),
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint_url,
        **{TABLE_ENV_VARS[logical_id]: name for logical_id, name in table_names.items()},
        # The targets are for a cached credential; the default 60 s would expire mid-run and add a read.
        "CREDENTIAL_CACHE_SECONDS": "3600",
        "POWERTOOLS_SERVICE_NAME": "products-api",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def isolate_from_aws(environment: dict[str, str]) -> None:
    """Nothing the bench does may reach a real AWS account, whatever the shell holds."""
    isolate(os.environ, REGION, "bench")
    os.environ.update(environment)


def seed_product(store: ProductStore, product_id: str, model: str) -> None:
    """The same shape as the demo product: every field set, a realistic item size."""
    created = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    store.create(
        Product(
            id=product_id,
            company_id=COMPANY,
            name="Li-Ion 48V Battery Pack",
            model=model,
            description="Original description",
            default_field_values={"chemistry": "NMC", "capacityWh": 960},
            image_urls=["https://cdn.example.com/hero.jpg"],
            status="active",
            source_locale="en",
            version=1,
            created_at=created,
            updated_at=created + timedelta(days=1),
        )
    )


@dataclass(frozen=True)
class Kind:
    """One request kind: the handler's request for iteration i, and the bare calls of the same iteration."""

    name: str
    target_calls: int
    event: Callable[[int], dict[str, Any]]
    bare: Callable[[int], object]
    replayed: bool = False


@dataclass
class KindResult:
    handler_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    # p50 handler / p50 bare, one per round
    round_ratios: list[float] = field(default_factory=list)
    handler_calls: list[str] = field(default_factory=list)
    bare_calls: list[str] = field(default_factory=list)
    capacity: CapacityLog | None = None
    bare_capacity: CapacityLog | None = None
    footprint: Footprint | None = None


@contextmanager
def counting(client: DynamoDBClient) -> Iterator[list[str]]:
    """The DynamoDB operations sent (every attempt), in order: the bench's call counts, and the tests'."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    client.meta.events.register("before-call.dynamodb", record, unique_id="bench-count-calls")
    try:
        yield calls
    finally:
        client.meta.events.unregister("before-call.dynamodb", unique_id="bench-count-calls")


class WarmBench:
    """Owns the tables, the seeded data and the wired handler on one DynamoDB Local."""

    def __init__(self, endpoint_url: str) -> None:
        template = load_template()
        table_names = {logical_id: f"bench-{logical_id}" for logical_id in TABLE_ENV_VARS}
        self.environment = bench_environment(endpoint_url, table_names)
        isolate_from_aws(self.environment)
        self.settings = load_settings()
        self.client = make_client(self.settings)
        create_tables(self.client, table_names, template)
        self.runtime = Runtime.build(self.settings, self.client)
        self.handler = handler_module()
        self.lambda_handler = QuietHandler(self.handler)
        # As the tests do: the container's runtime, built on the injected client, so both sides share one client.
        self.handler.__dict__["get_runtime"] = lambda: self.runtime
        self.token, _ = CredentialStore(self.client, self.settings.credentials_table_name).create(
            COMPANY, "api-key", ["products:write"], None, datetime.now(UTC)
        )
        self.products = ProductStore(self.client, self.settings.products_table_name)
        seed_product(self.products, HANDLER_PRODUCT, "BENCH-H-0")
        seed_product(self.products, BARE_PRODUCT, "BENCH-B-0")
        self.events = Events(self.token)
        self.bare = BareCalls(self.client, self.settings, BARE_PRODUCT)
        self._replay_body = {"name": "Replayed name"}
        self._replay_key = str(uuid.uuid4())
        self._prime()
        self.kinds = self._kinds()

    def invoke(self, event: dict[str, Any], *, replayed: bool = False) -> dict[str, Any]:
        begin_invocation()
        result: dict[str, Any] = self.lambda_handler(event, LambdaContext())
        if result.get("statusCode") != 200:
            raise AssertionError(f"the handler answered {result.get('statusCode')}: {result.get('body')}")
        if replayed != (result.get("headers", {}).get("Idempotent-Replayed") == "true"):
            raise AssertionError(f"expected replayed={replayed}, got headers {result.get('headers')}")
        return result

    def _prime(self) -> None:
        """Cache the credential (as a warm container has it), and create the records both replays use."""
        first = self.invoke(
            self.events.patch(HANDLER_PRODUCT, self._replay_body, {"Idempotency-Key": self._replay_key})
        )
        # the bare side stores an answer of the same size as the handler's record
        self.bare.response_data = json.dumps(
            {"statusCode": 200, "body": first["body"], "headers": {"ETag": first["headers"]["ETag"]}},
            separators=(",", ":"),
        )
        self.bare.replay_record_id = self.bare.first_with_key(self._replay_body["name"], self._replay_key)

    def _kinds(self) -> list[Kind]:
        events = self.events

        def name(i: int) -> str:
            # same length every time: the twin products keep equal sizes
            return f"Li-Ion 48V Battery Pack rev {i % 10}"

        def model(i: int, side: str) -> str:
            return f"BENCH-{side}-{(i + 1) % 2}"

        # Renames alternate between two models per product, so every rename moves a lock. A kind's iteration
        # counter restarts each round, so the model to move to is taken from a running count instead.
        rename_counter = {"H": 0, "B": 0}

        def next_model(side: str) -> str:
            rename_counter[side] += 1
            return model(rename_counter[side] - 1, side)

        return [
            Kind(
                "patch without model",
                1,
                lambda i: events.patch(HANDLER_PRODUCT, {"name": name(i), "imageUrls": IMAGE_URLS}),
                lambda i: self.bare.plain(name(i)),
            ),
            Kind(
                "patch with a model change",
                2,
                lambda i: events.patch(HANDLER_PRODUCT, {"model": next_model("H")}),
                lambda i: self.bare.rename(next_model("B")),
            ),
            Kind(
                "first request with Idempotency-Key",
                3,
                # a new key on every call: a first request must never find a record
                lambda i: events.patch(
                    HANDLER_PRODUCT, {"name": name(i), "imageUrls": IMAGE_URLS}, {"Idempotency-Key": str(uuid.uuid4())}
                ),
                lambda i: self.bare.first_with_key(name(i), str(uuid.uuid4())),
            ),
            Kind(
                "its replay",
                1,
                lambda i: events.patch(HANDLER_PRODUCT, self._replay_body, {"Idempotency-Key": self._replay_key}),
                lambda i: self.bare.replay(),
                replayed=True,
            ),
            Kind("{}", 1, lambda i: events.patch(HANDLER_PRODUCT, {}), lambda i: self.bare.current()),
        ]

    def calls_and_capacity(self, results: dict[str, KindResult]) -> None:
        """One request of each kind, counted call by call, then once more for its capacity, and once more for the
        code it runs (none timed)."""
        meter = CapacityMeter(self.client)
        for kind in self.kinds:
            result = results.setdefault(kind.name, KindResult())
            with counting(self.client) as calls:
                self.invoke(kind.event(0), replayed=kind.replayed)
            result.handler_calls = calls
            with counting(self.client) as calls:
                kind.bare(0)
            result.bare_calls = calls
            with meter.measuring() as log:
                self.invoke(kind.event(1), replayed=kind.replayed)
            result.capacity = log
            with meter.measuring() as log:
                kind.bare(1)
            result.bare_capacity = log
            result.footprint = self._footprint(kind)

    def _footprint(self, kind: Kind) -> Footprint:
        """The next request of each side (both warm by now), line by line."""
        event, context = kind.event(2), LambdaContext()
        begin_invocation()
        answers: list[dict[str, Any]] = []
        with self.lambda_handler.quietly():
            counted = footprint(
                lambda: answers.append(self.lambda_handler.direct(event, context)), functools.partial(kind.bare, 2)
            )
        if answers[0].get("statusCode") != 200:
            raise AssertionError(f"the handler answered {answers[0].get('statusCode')}: {answers[0].get('body')}")
        return counted

    def run_round(self, iterations: int, warm_up: int, results: dict[str, KindResult]) -> None:
        """Each kind: `warm_up` untimed pairs, then `iterations` timed pairs, handler and bare alternating first."""
        for kind in self.kinds:
            with self.lambda_handler.quietly():
                self._run_kind(kind, iterations, warm_up, results)

    def _run_kind(self, kind: Kind, iterations: int, warm_up: int, results: dict[str, KindResult]) -> None:
        result = results.setdefault(kind.name, KindResult())
        handler_ms: list[float] = []
        bare_ms: list[float] = []
        for i in range(warm_up + iterations):
            event = kind.event(i)
            if i % 2 == 0:
                handler_time = self._time_handler(event, kind.replayed)
                bare_time = _time(functools.partial(kind.bare, i))
            else:
                bare_time = _time(functools.partial(kind.bare, i))
                handler_time = self._time_handler(event, kind.replayed)
            if i >= warm_up:
                handler_ms.append(handler_time)
                bare_ms.append(bare_time)
        result.handler_ms += handler_ms
        result.bare_ms += bare_ms
        result.round_ratios.append(percentile(handler_ms, 0.5) / percentile(bare_ms, 0.5))

    def _time_handler(self, event: dict[str, Any], replayed: bool) -> float:
        context = LambdaContext()
        begin_invocation()  # as the runtime does, before the handler's time starts
        started = time.perf_counter_ns()
        result: dict[str, Any] = self.lambda_handler.direct(event, context)
        elapsed = (time.perf_counter_ns() - started) / 1e6
        if result.get("statusCode") != 200 or replayed != (
            result.get("headers", {}).get("Idempotent-Replayed") == "true"
        ):
            raise AssertionError(f"unexpected answer during timing: {result.get('statusCode')} {result.get('body')}")
        return elapsed


def _time(call: Callable[[], object]) -> float:
    started = time.perf_counter_ns()
    call()
    return (time.perf_counter_ns() - started) / 1e6
