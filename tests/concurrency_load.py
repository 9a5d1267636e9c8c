"""The load of test_concurrency.py: companies, products and model spellings, the requests a thread draws, each
exchange as recorded, and one call of the handler as a warm container makes it.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any

from products_api.api.requests import parse_patch_request
from products_api.api.responses import Outcome, error_outcome
from products_api.errors import DomainError
from products_api.products.runtime import Runtime
from support import EVENT_TOKEN, ApiResponse, FakeContext, product_event

SEED = 20260509
THREADS = 8
REQUESTS_PER_THREAD = 120
RUN_SECONDS = 7.0
PRODUCTS_PER_COMPANY = 4
COMPANIES = {"ACME": EVENT_TOKEN, "GLOBEX": "tp_globex_concurrency_token_00000000000000"}
# Five model keys for four products per company: one is free at any time, so renames collide often.
# Each key has several spellings (case, and for the last one a decomposed accent), all of one lock.
MODEL_SPELLINGS = [
    ["AX-100", "ax-100", "Ax-100"],
    ["BX-200", "bx-200"],
    ["CX-300", "cx-300", "cX-300"],
    ["DX-400", "dx-400"],
    ["ÉX-500", "éx-500", "E\u0301X-500", "e\u0301x-500"],
]
KEPT_STATUSES = {200, 404, 409, 412}
CONTRACT_STATUSES = {200, 404, 409, 412, 422, 503}
UNKNOWN_PRODUCT = "0123456789abcdef01234567"
REQUIRED_SCOPE = "products:write"  # the contract's scope for PATCH (update_product.REQUIRED_SCOPE)


@dataclass(frozen=True)
class Request:
    company: str
    product_id: str
    body: dict[str, Any]
    if_match: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Exchange:
    thread: int
    request: Request
    response: ApiResponse
    # monotonic seconds: when the request went out and when its answer came back
    started: float = 0.0
    finished: float = 0.0

    def describe(self) -> str:
        return (
            f"[thread {self.thread}, {self.started:.3f}-{self.finished:.3f}] {self.request} -> {self.status} "
            f"{self.response.body[:300]}"
        )

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def code(self) -> str | None:
        if self.status == 200:
            return None
        code = self.response.json.get("code")
        return str(code) if code is not None else None

    @property
    def replayed(self) -> bool:
        return self.response.header("Idempotent-Replayed") == "true"

    @property
    def is_write(self) -> bool:
        """A 200 that ran (not a replay) and sent something to change: each adds exactly one version."""
        return self.status == 200 and not self.replayed and bool(self.request.body)


def invoke(runtime: Runtime, request: Request) -> ApiResponse:
    """One request through the handler's per-request path, on this container's runtime."""
    headers: dict[str, str] = {}
    if request.if_match is not None:
        headers["If-Match"] = request.if_match
    if request.idempotency_key is not None:
        headers["Idempotency-Key"] = request.idempotency_key
    event = product_event(request.product_id, request.body, headers, token=COMPANIES[request.company])
    request_id = str(event["requestContext"]["requestId"])
    runtime.patch_service.register_lambda_context(FakeContext())  # type: ignore[arg-type]
    try:
        principal = runtime.authenticator.authenticate(event["headers"].get("authorization"), REQUIRED_SCOPE)
        outcome = runtime.patch_service.handle(
            principal, parse_patch_request(event, event["headers"], event["pathParameters"]["id"]), request_id
        )
    except DomainError as exc:
        outcome = error_outcome(exc, request_id)
    except Exception as exc:  # the handler answers 500; keep what went wrong for the report
        outcome = Outcome(500, f"{type(exc).__name__}: {exc}")
    return ApiResponse(outcome.status_code, outcome.response_headers(), outcome.body)


class Load:
    """The random requests of every thread, from one seed; shared idempotent requests drawn from a fixed pool."""

    def __init__(self, products: dict[str, list[str]]) -> None:
        self.products = products
        rng = random.Random(SEED)
        # Each pooled key stands for one request, sent identically by whichever thread draws it; the same key
        # also serves the other company with a request of its own (keys are scoped to the company).
        self.pool: list[dict[str, Request]] = []
        for position in range(8):
            key = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            self.pool.append(
                {
                    company: Request(
                        company,
                        rng.choice(products[company]),
                        self._body(rng, position),
                        if_match='"1"' if position == 7 else None,
                        idempotency_key=key,
                    )
                    for company in COMPANIES
                }
            )

    def _body(self, rng: random.Random, salt: int) -> dict[str, Any]:
        kind = rng.choices(
            ["model", "model+name", "name", "status", "description", "values", "images", "locale", "empty"],
            weights=[30, 8, 10, 8, 8, 6, 6, 4, 4],
        )[0]
        spelling = rng.choice(rng.choice(MODEL_SPELLINGS))
        if kind == "model":
            return {"model": spelling}
        if kind == "model+name":
            return {"model": f"  {spelling} ", "name": f"renamed {salt}"}
        if kind == "name":
            return {"name": f"name {salt} {rng.randrange(1000)}"}
        if kind == "status":
            return {"status": rng.choice(["active", "archived"])}
        if kind == "description":
            return {"description": rng.choice([None, f"description {salt}"])}
        if kind == "values":
            return {"defaultFieldValues": {"n": rng.randrange(10**6), "tag": f"t{salt}", "nested": {"ok": True}}}
        if kind == "images":
            return {"imageUrls": [f"https://cdn.example.com/{salt}/{i}.jpg" for i in range(rng.randrange(3))]}
        if kind == "locale":
            return {"sourceLocale": rng.choice(["en", "DE", "Fr", "ja"])}
        return {}

    def next_request(self, rng: random.Random, serial: int, known_versions: dict[str, int]) -> Request:
        roll = rng.random()
        if roll < 0.25:
            pooled = self.pool[rng.randrange(len(self.pool))][rng.choice(list(COMPANIES))]
            if rng.random() < 0.1:
                # the same key with a body of its own (unique, so never a replay): 422 once the key ran
                return Request(
                    pooled.company, pooled.product_id, {"name": f"reuse {serial}"}, None, pooled.idempotency_key
                )
            return pooled
        company = rng.choice(list(COMPANIES))
        product_id = UNKNOWN_PRODUCT if rng.random() < 0.03 else rng.choice(self.products[company])
        if_match: str | None = None
        if rng.random() < 0.25:
            if_match = rng.choice(
                [f'"{known_versions.get(product_id, 1)}"', '"1"', "*", f'"{known_versions.get(product_id, 1) + 1}"']
            )
        return Request(company, product_id, self._body(rng, serial), if_match)
