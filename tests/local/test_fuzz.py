"""Contract fuzzing: schemathesis sends requests generated from docs/openapi.json to the local runner over HTTP.

The runner (`python -m products_api_local.runner --in-memory`, on DynamoDB Local) serves the demo company, product and
API key it seeds; a second product is added so that a rename can collide. Every case carries the demo key, and most
are aimed at the demo product (the rest keep their generated id, for 400 `invalid_id` and 404), so the fuzzer gets
past authentication and the lookup into the update itself: 200, 409 `duplicate_model`, 412 and 422.

Each response must pass schemathesis' checks against the document: no 5xx, a documented status, content type,
headers and body schema. Negative cases (data the document forbids) must also be refused with a documented 4xx.

Bounded and reproducible: a fixed number of examples per mode, generated derandomised (the same cases every run),
without Hypothesis' example database and without shrinking (the server keeps state, so a shrunk case would not meet
the same product). Every distinct failure is collected and reported at the end with a curl command to reproduce it.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from local_runner import Banner, running
from products_api.limits.store import LimitsStore
from products_api.products.models import NewProduct
from products_api.products.store import ProductStore
from products_api_local.cli import import_products
from products_api_local.demo import DEMO_COMPANY
from products_api_local.template.document import load_template
from products_api_local.template.functions import local_table_names
from requests.structures import CaseInsensitiveDict
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.errors import FailureGroup
from support import ROOT

pytestmark = pytest.mark.dynamodb_local

DOCUMENT_FILE = ROOT / "docs" / "openapi.json"
PATH = "/api/v1/products/{id}"
METHOD = "PATCH"
# Enough for every status the update can answer to show up (asserted below), small enough for ~15 s per mode.
POSITIVE_EXAMPLES = 150
NEGATIVE_EXAMPLES = 150
# The model of the second product: positive cases that rename the demo product to it must answer 409.
OTHER_MODEL = "FUZZ-COLLIDE-1"

DOCUMENT: dict[str, Any] = json.loads(DOCUMENT_FILE.read_text(encoding="utf-8"))
DOCUMENTED_STATUSES = sorted(int(status) for status in DOCUMENT["paths"][PATH][METHOD.lower()]["responses"])
DOCUMENTED_CLIENT_ERRORS = [status for status in DOCUMENTED_STATUSES if 400 <= status < 500]
CONFIG = schemathesis.Config.from_dict(
    {
        # The demo key goes into every case (BearerAuth): no generated, or deliberately missing, Authorization.
        "generation": {"with-security-parameters": False},
        # Invalid data must be refused with a 4xx the document names (schemathesis' default list also allows 5xx).
        "checks": {"negative_data_rejection": {"expected-statuses": [str(s) for s in DOCUMENTED_CLIENT_ERRORS]}},
    }
)
OPERATION = schemathesis.openapi.from_path(DOCUMENT_FILE, config=CONFIG)[PATH][METHOD]

CONFORMANCE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FUZZ_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    # No shrinking: failures are collected, not raised, and the server's state has moved on anyway.
    phases=[Phase.explicit, Phase.generate],
    # Generating bodies from the document (nested defaultFieldValues) is slower than Hypothesis likes.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class BearerAuth(requests.auth.AuthBase):
    """The demo key, set on every request as it is sent."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


@dataclass
class Outcomes:
    """What the cases of one generation mode got back."""

    cases: int = 0
    # cases still invalid once the demo key (and maybe the demo product's id) were put in
    invalid: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    # "status code", with " (replayed)" for an idempotent replay
    answers: Counter[str] = field(default_factory=Counter)
    # one line naming the failure -> schemathesis' report of its first occurrence (with a curl command)
    failures: dict[str, str] = field(default_factory=dict)

    def summary(self, mode: GenerationMode) -> str:
        answers = ", ".join(f"{answer}: {count}" for answer, count in sorted(self.answers.items()))
        return f"{mode.value} fuzzing: {self.cases} cases ({self.invalid} invalid); statuses: {answers}"


@dataclass
class FuzzRun:
    """The runner under test, and what the cases sent to it got back."""

    banner: Banner
    session: requests.Session = field(default_factory=requests.Session)
    # The ETag of the last 200, for cases that send a current If-Match.
    last_etag: str | None = None
    # (path parameters, headers, body) of the last request with an Idempotency-Key that answered 200, to retry it.
    last_keyed_success: tuple[dict[str, Any], dict[str, Any], Any] | None = None
    outcomes: dict[GenerationMode, Outcomes] = field(default_factory=dict)

    def send(self, case: Case[Any], mode: GenerationMode) -> None:
        auth = BearerAuth(self.banner.token)
        response = case.call(base_url=self.banner.base_url, session=self.session, auth=auth, timeout=30)
        outcomes = self.outcomes.setdefault(mode, Outcomes())
        outcomes.cases += 1
        if case.meta is not None and case.meta.generation.mode.is_negative:
            outcomes.invalid += 1
        outcomes.statuses[response.status_code] += 1
        outcomes.answers[answer(response.status_code, response.text, response.headers)] += 1
        if response.status_code == 200:
            # A missing ETag is reported by response_headers_conformance below, not by a KeyError here.
            etags = response.headers.get("etag")
            self.last_etag = etags[0] if etags else None
            if "Idempotency-Key" in case.headers:
                self.last_keyed_success = copy.deepcopy((case.path_parameters, dict(case.headers), case.body))
        checks = [*CONFORMANCE_CHECKS, negative_data_rejection] if mode.is_negative else CONFORMANCE_CHECKS
        try:
            case.validate_response(
                response,
                checks=checks,
                transport_kwargs={"base_url": self.banner.base_url, "session": self.session, "auth": auth},
            )
        except FailureGroup as group:
            for failure in group.exceptions:
                outcomes.failures.setdefault(f"{type(failure).__name__}: {failure.title}", str(group))


def answer(status: int, text: str, headers: dict[str, list[str]]) -> str:
    """`status code` of a response, such as `409 duplicate_model`, with ` (replayed)` for an idempotent replay."""
    code = ""
    if status >= 400:
        try:
            code = str(json.loads(text).get("code", ""))
        except (ValueError, AttributeError):
            code = "(not an error body)"
    replayed = " (replayed)" if "idempotent-replayed" in headers else ""
    return f"{status} {code}".strip() + replayed


@pytest.fixture(scope="module")
def fuzz_run(boto3_session: boto3.Session) -> Iterator[FuzzRun]:
    with running("--in-memory") as (_, banner):
        client = boto3_session.client("dynamodb", endpoint_url=f"http://127.0.0.1:{banner.dynamodb_port}")
        products = ProductStore(client, local_table_names(load_template())["ProductsTable"])
        other = {"name": "Fuzzing collision target", "model": OTHER_MODEL, "sourceLocale": "en"}
        import_products(products, DEMO_COMPANY, [NewProduct.model_validate(other)])
        # the fuzzing sends hundreds of writes a minute: the demo company's own rate is unlimited (0), or most cases
        # would answer 429 before reaching the update
        LimitsStore(client, local_table_names(load_template())["LimitsTable"]).set_plan(
            DEMO_COMPANY, rate=0, quota=None, clear_rate=False, clear_quota=False
        )
        yield FuzzRun(banner)


def report(outcomes: Outcomes, mode: GenerationMode) -> str:
    lines = [outcomes.summary(mode)]
    for title, details in outcomes.failures.items():
        lines += ["", f"FAILURE {title}", details]
    return "\n".join(lines)


# A digit 0-9, near uniform: Hypothesis draws the ends of a small range far more often than the middle.
digits = st.integers(0, 999).map(lambda number: number % 10)
# Below 8, the case is aimed at the demo product; otherwise it keeps its generated id.
aims = digits
# Positive cases only: 9 renames the demo product to the other product's model in another spelling, without If-Match
# or Idempotency-Key (409 unless a field is refused first); 8 sends the last ETag seen as If-Match; 7 retries the last
# request that answered 200 with an Idempotency-Key (a replay); anything else leaves the case as generated.
tweaks = digits
COLLIDE, CURRENT_ETAG, RETRY = 9, 8, 7
# Dropped from a collision case: a stale If-Match (412) or a reused Idempotency-Key (422, replay) would answer first.
CONDITIONS = {"if-match", "idempotency-key"}


def aim(case: Case[Any], draw: int, run: FuzzRun) -> None:
    if draw < 8:
        # Assigned, not changed in place, so schemathesis re-judges whether the case is still invalid.
        case.path_parameters = {**case.path_parameters, "id": run.banner.product_id}


def test_valid_requests_get_documented_answers(fuzz_run: FuzzRun) -> None:
    mode = GenerationMode.POSITIVE

    @settings(FUZZ_SETTINGS, max_examples=POSITIVE_EXAMPLES)
    @given(case=OPERATION.as_strategy(generation_mode=mode), aim_draw=aims, tweak=tweaks)
    def fuzz(case: Case[Any], aim_draw: int, tweak: int) -> None:
        aim(case, aim_draw, fuzz_run)
        if tweak == COLLIDE and isinstance(case.body, dict):
            case.body = {**case.body, "model": OTHER_MODEL.lower()}
            case.headers = CaseInsensitiveDict(
                {name: value for name, value in case.headers.items() if name.lower() not in CONDITIONS}
            )
        elif tweak == CURRENT_ETAG and fuzz_run.last_etag is not None:
            case.headers["If-Match"] = fuzz_run.last_etag
        elif tweak == RETRY and fuzz_run.last_keyed_success is not None:
            case.path_parameters, headers, case.body = copy.deepcopy(fuzz_run.last_keyed_success)
            case.headers = CaseInsensitiveDict(headers)
        fuzz_run.send(case, mode)

    fuzz()
    outcomes = fuzz_run.outcomes[mode]
    print(report(outcomes, mode))
    assert not outcomes.failures, report(outcomes, mode)
    # The fuzzing reached the update itself, not only the checks in front of it.
    reached = {"200", "200 (replayed)", "404 not_found", "409 duplicate_model", "412 precondition_failed"}
    reached |= {"422 idempotency_key_reused"}
    assert reached <= set(outcomes.answers), report(outcomes, mode)


def test_invalid_requests_get_documented_client_errors(fuzz_run: FuzzRun) -> None:
    mode = GenerationMode.NEGATIVE

    @settings(FUZZ_SETTINGS, max_examples=NEGATIVE_EXAMPLES)
    @given(case=OPERATION.as_strategy(generation_mode=mode), aim_draw=aims)
    def fuzz(case: Case[Any], aim_draw: int) -> None:
        aim(case, aim_draw, fuzz_run)
        fuzz_run.send(case, mode)

    fuzz()
    outcomes = fuzz_run.outcomes[mode]
    print(report(outcomes, mode))
    assert not outcomes.failures, report(outcomes, mode)
    assert not [status for status in outcomes.statuses if status >= 500], report(outcomes, mode)
    # Most cases stay invalid once the key and id are put in, and those were refused with a documented 4xx (the
    # negative_data_rejection check above): the run was not vacuous.
    assert outcomes.invalid >= outcomes.cases // 2, report(outcomes, mode)
    assert "400 validation_error" in outcomes.answers, report(outcomes, mode)
