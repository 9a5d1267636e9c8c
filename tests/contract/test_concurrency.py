"""Many clients at once on DynamoDB Local (real conditions and transactions): what must hold afterwards.

How concurrency is modelled. A Lambda container runs one request at a time, and the handler's process state
relies on it: the runtime built on first use, the idempotency config holding the current Lambda context
(`register_lambda_context`), and the Powertools resolver, which keeps the current event as a class attribute of
`BaseRouter`, shared by every resolver of the process (so even separate copies of the handler module, tried
first, answered one thread's request with another thread's event). Threads in one process cannot be containers
of the handler as a whole. So each thread is a container of everything below the router: its own `Runtime`
(its own boto3 client, credential cache, `PatchProductService` and idempotency config), on which it runs the
handler's per-request path, one request after the other: register a fresh Lambda context, authenticate,
`parse_patch_request`, `patch_service.handle`, and the one mapping of domain errors to responses
(`error_outcome`). What is left out is the routing and logging that `update_product.py` wraps around it, which
the rest of the suite covers. The containers share only what separate containers share in AWS: the tables.

The load is seeded and bounded (a fixed number of requests per thread and a wall-clock limit), and the checks
are on invariants that hold whatever the interleaving; only "a rename succeeded" and "a duplicate_model
happened" are counted, and both are made certain by two sequential requests before the threads start.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict

import boto3
import pytest
import simplejson
from concurrency_load import (
    COMPANIES,
    CONTRACT_STATUSES,
    KEPT_STATUSES,
    MODEL_SPELLINGS,
    PRODUCTS_PER_COMPANY,
    REQUESTS_PER_THREAD,
    RUN_SECONDS,
    SEED,
    THREADS,
    Exchange,
    Load,
    Request,
    invoke,
)
from products_api.core import jsonio
from products_api.core.dynamodb import make_client
from products_api.products.items import ProductItem
from products_api.products.models import company_partition, model_key, model_lock_sort_key
from products_api.products.responses import ProductResponse
from products_api.products.runtime import Runtime
from support import Api

pytestmark = [
    pytest.mark.dynamodb_local,
    pytest.mark.parametrize("backend", ["dynamodb_local"], indirect=True),
]


def test_random_concurrent_patches_keep_every_invariant(api: Api, boto3_session: boto3.Session) -> None:
    api.add_credential(COMPANIES["GLOBEX"], company_id="GLOBEX")
    products = {
        company: [
            api.add_product(company_id=company, model=MODEL_SPELLINGS[i][0]).id for i in range(PRODUCTS_PER_COMPANY)
        ]
        for company in COMPANIES
    }
    containers = [Runtime.build(api.settings, make_client(api.settings, boto3_session)) for _ in range(THREADS)]
    load = Load(products)
    exchanges: list[Exchange] = []
    exchanges_lock = threading.Lock()

    # Certain by design, before the threads start: a rename to the free model, and a claim of a taken one.
    acme = products["ACME"]
    for request in (
        Request("ACME", acme[0], {"model": "éx-500"}),
        Request("ACME", acme[1], {"model": "cx-300"}),
    ):
        started = time.monotonic()
        response = invoke(containers[0], request)
        exchanges.append(Exchange(-1, request, response, started, time.monotonic()))
    assert [e.status for e in exchanges] == [200, 409], [e.response.body for e in exchanges]

    start = threading.Barrier(THREADS)
    deadline = time.monotonic() + RUN_SECONDS + 5  # replaced once every thread is ready
    failures: list[BaseException] = []

    def client(index: int) -> None:
        nonlocal deadline
        rng = random.Random(SEED * 100 + index)
        known_versions: dict[str, int] = {}
        mine: list[Exchange] = []
        try:
            if start.wait() == 0:
                deadline = time.monotonic() + RUN_SECONDS
            for serial in range(REQUESTS_PER_THREAD):
                if time.monotonic() > deadline:
                    break
                request = load.next_request(rng, index * 1000 + serial, known_versions)
                started = time.monotonic()
                response = invoke(containers[index], request)
                mine.append(Exchange(index, request, response, started, time.monotonic()))
                if response.status == 200:
                    known_versions[request.product_id] = int(response.json["version"])
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            with exchanges_lock:
                exchanges.extend(mine)

    threads = [threading.Thread(target=client, args=(i,), name=f"container-{i}") for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RUN_SECONDS + 30)
    assert not any(thread.is_alive() for thread in threads), "a client thread did not finish"
    if failures:
        raise failures[0]

    report(exchanges)
    problems = (
        check_statuses(exchanges)
        + check_idempotency(exchanges)
        + check_versions(api, exchanges, products)
        + check_model_locks(api, products)
        + check_idempotency_records(api)
    )
    assert not problems, "broken invariants:\n" + "\n".join(problems)


def report(exchanges: list[Exchange]) -> None:
    statuses = Counter(e.status for e in exchanges)
    conflicts = Counter(e.code for e in exchanges if e.status == 409)
    renames = sum(1 for e in exchanges if e.is_write and "model" in e.request.body)
    print(
        f"\nconcurrency: {len(exchanges)} requests; 200: {statuses[200]} (writes {sum(e.is_write for e in exchanges)},"
        f" renames {renames}); 404: {statuses[404]}; 409: {dict(conflicts)}; 412: {statuses[412]};"
        f" 422: {statuses[422]}; replays: {sum(e.replayed for e in exchanges)}; 503: {statuses[503]};"
        f" other: {sorted(s for s in statuses if s not in CONTRACT_STATUSES)}"
    )
    for exchange in exchanges:
        if exchange.status == 503:
            print(f"  503: {exchange.describe()}")


def check_statuses(exchanges: list[Exchange]) -> list[str]:
    problems = [
        f"status {e.status} outside the contract for {e.request}: {e.response.body}"
        for e in exchanges
        if e.status not in CONTRACT_STATUSES
    ]
    renames = [e for e in exchanges if e.is_write and "model" in e.request.body]
    duplicates = [e for e in exchanges if e.code == "duplicate_model"]
    if not renames or not duplicates:
        problems.append(f"expected a rename and a duplicate_model, got {len(renames)} and {len(duplicates)}")
    for exchange in exchanges:
        if (
            exchange.status == 409
            and exchange.code == "idempotency_in_progress"
            and not exchange.request.idempotency_key
        ):
            problems.append(f"idempotency_in_progress without a key: {exchange.request}")
        if exchange.status == 422 and not exchange.request.idempotency_key:
            problems.append(f"422 without a key: {exchange.request}")
    return problems


def check_idempotency(exchanges: list[Exchange]) -> list[str]:
    """Per (company, key): at most one outcome that ran and was kept, and every replay is exactly that one."""
    problems: list[str] = []
    by_key: dict[tuple[str, str], list[Exchange]] = defaultdict(list)
    for exchange in exchanges:
        if exchange.request.idempotency_key is not None:
            by_key[(exchange.request.company, exchange.request.idempotency_key)].append(exchange)
    for key, group in by_key.items():
        ran = [e for e in group if not e.replayed and e.status in KEPT_STATUSES and e.code != "idempotency_in_progress"]
        replays = [e for e in group if e.replayed]
        if len(ran) > 1:
            problems.append(f"key {key} ran {len(ran)} times: " + "; ".join(e.describe() for e in group))
        if replays and not ran:
            problems.append(f"key {key} replayed an outcome nobody received first: {replays[0].response.body}")
        if not ran:
            continue
        first = ran[0]
        for replay in replays:
            if (replay.status, replay.response.body, replay.response.header("ETag")) != (
                first.status,
                first.response.body,
                first.response.header("ETag"),
            ):
                problems.append(
                    f"key {key}: replay {replay.status} {replay.response.body} differs from first "
                    f"{first.status} {first.response.body}"
                )
            if (replay.request.product_id, jsonio.canonical(replay.request.body)) != (
                first.request.product_id,
                jsonio.canonical(first.request.body),
            ):
                problems.append(f"key {key}: replayed for another request {replay.request} (first {first.request})")
        for refused in (e for e in group if e.status == 422):
            if jsonio.canonical(refused.request.body) == jsonio.canonical(first.request.body):
                problems.append(f"key {key}: 422 for the very request that ran: {refused.request}")
    return problems


def check_versions(api: Api, exchanges: list[Exchange], products: dict[str, list[str]]) -> list[str]:
    """Each write adds one version and answers it: a product's write versions are exactly 2..version, and the
    write that made the stored version answered exactly what is stored.
    """
    problems: list[str] = []
    for company, ids in products.items():
        for product_id in ids:
            item = api.stored_item(product_id, company)
            assert item is not None
            writes = [e for e in exchanges if e.is_write and e.request.product_id == product_id]
            versions = sorted(int(e.response.json["version"]) for e in writes)
            if versions != list(range(2, int(item["version"]) + 1)):
                problems.append(
                    f"{company}/{product_id}: stored version {item['version']}, but {len(writes)} writes answered "
                    f"versions {versions}"
                )
                continue
            stored = simplejson.loads(
                ProductResponse.from_product(ProductItem.model_validate(item).to_product()).to_json(), use_decimal=True
            )
            last = [e for e in writes if int(e.response.json["version"]) == int(item["version"])]
            if last and jsonio.canonical(last[0].response.json) != jsonio.canonical(stored):
                problems.append(
                    f"{company}/{product_id}: stored {stored} but its write answered {last[0].response.body}"
                )
    return problems


def check_model_locks(api: Api, products: dict[str, list[str]]) -> list[str]:
    """From the table itself: model keys unique per company, one lock per product naming it, no orphans."""
    problems: list[str] = []
    items = api.all_items()
    for company in COMPANIES:
        mine = [item for item in items if item["pk"] == company_partition(company)]
        product_items = [item for item in mine if item["sk"].startswith("PRODUCT#")]
        locks = {item["sk"]: item["productId"] for item in mine if item["sk"].startswith("MODEL#")}
        if sorted(item["id"] for item in product_items) != sorted(products[company]):
            problems.append(f"{company}: products {[item['id'] for item in product_items]} in the table")
        keys = [model_key(item["model"]) for item in product_items]
        if len(set(keys)) != len(keys):
            problems.append(f"{company}: two products share a model: {[item['model'] for item in product_items]}")
        for item in product_items:
            if item["modelKey"] != model_key(item["model"]):
                problems.append(f"{company}/{item['id']}: modelKey {item['modelKey']!r} for model {item['model']!r}")
        expected = {model_lock_sort_key(model_key(item["model"])): item["id"] for item in product_items}
        if locks != expected:
            problems.append(f"{company}: locks {locks}, expected one per product {expected}")
    return problems


def check_idempotency_records(api: Api) -> list[str]:
    """Every request finished, so no key may be left in progress (a later retry would get 409 until expiry)."""
    stuck = [record for record in api.idempotency_records() if record.get("status") != "COMPLETED"]
    return [f"idempotency record left {record.get('status')}: {record.get('id')}" for record in stuck]
