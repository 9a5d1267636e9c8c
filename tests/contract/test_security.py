"""Who may change what, and what never leaks: tenancy, scope, revocation and expiry, tokens in logs and storage."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from products_api.auth.credentials import Authenticator
from products_api.core.dynamodb import from_attribute_values
from products_api.products.rules import ProductUpdater
from support import EVENT_TOKEN, Api, ApiResponse, handler_module

OTHER_TOKEN = "tp_security_other_company_token_0000000000"
READ_ONLY_TOKEN = "tp_security_read_only_token_00000000000000"
UNKNOWN_PRODUCT = "0123456789abcdef01234567"


class FakeClock:
    """Seconds that move only when the test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def use_authenticator(api: Api, monkeypatch: pytest.MonkeyPatch, authenticator: Authenticator) -> None:
    """The handler's runtime with this authenticator in place of the fixture's (Runtime is frozen)."""
    runtime = dataclasses.replace(api.runtime, authenticator=authenticator)
    monkeypatch.setattr(handler_module(), "get_runtime", lambda: runtime)


def error_code(response: ApiResponse) -> str:
    return str(response.json["code"])


def without_request_id(response: ApiResponse) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = {key: value for key, value in response.json.items() if key != "requestId"}
    return response.status, body, response.headers


# --- tenancy and scope ----------------------------------------------------------------------------------


def test_another_companys_credential_finds_none_of_its_products(api: Api) -> None:
    api.add_credential(OTHER_TOKEN, company_id="GLOBEX")
    products = [api.add_product(model=f"ACME-{i}") for i in range(3)]
    api.add_product(company_id="GLOBEX", model="GLOBEX-0")
    before = sorted(api.all_items(), key=lambda item: (item["pk"], item["sk"]))
    bodies: list[dict[str, Any]] = [
        {},
        {"name": "taken over"},
        {"model": "GLOBEX-NEW"},
        {"model": products[0].model},  # ACME's own model: not GLOBEX's to claim or to be refused
        {"status": "archived", "description": None},
        {"defaultFieldValues": {}, "imageUrls": []},
    ]
    missing = api.patch(UNKNOWN_PRODUCT, {"name": "x"}, token=OTHER_TOKEN)
    assert missing.status == 404
    for product in products:
        for body in bodies:
            for headers in ({}, {"If-Match": '"1"'}, {"Idempotency-Key": str(uuid.uuid4())}):
                response = api.patch(product.id, body, headers, token=OTHER_TOKEN)
                assert response.status == 404, (product.id, body, headers, response.body)
                assert error_code(response) == "not_found"
                # indistinguishable from a product that does not exist at all: no ETag, same words
                assert without_request_id(response) == without_request_id(missing)
    after = sorted(api.all_items(), key=lambda item: (item["pk"], item["sk"]))
    assert after == before


def test_a_credential_without_the_write_scope_is_403_whatever_the_product(api: Api) -> None:
    api.add_credential(READ_ONLY_TOKEN, scopes=("products:read",))
    product = api.add_product()
    before = api.stored_item(product.id)
    for product_id in (product.id, UNKNOWN_PRODUCT):
        response = api.patch(product_id, {"name": "x"}, token=READ_ONLY_TOKEN)
        assert response.status == 403, response.body
        assert error_code(response) == "insufficient_scope"
        challenge = response.header("WWW-Authenticate") or ""
        assert 'error="insufficient_scope"' in challenge and 'scope="products:write"' in challenge
    assert api.stored_item(product.id) == before
    assert api.idempotency_records() == []


def test_an_expired_token_is_refused_at_once_even_while_cached(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    token = "tp_security_expiring_token_000000000000000"
    api.add_credential(token, expires_at=expires)
    wall = FakeClock(expires.timestamp() - 1)
    use_authenticator(api, monkeypatch, Authenticator(api.credentials, cache_seconds=600, wall_clock=wall))
    product = api.add_product()

    assert api.patch(product.id, {"name": "before expiry"}, token=token).status == 200
    wall.now = expires.timestamp()
    response = api.patch(product.id, {"name": "at expiry"}, token=token)
    assert response.status == 401, response.body
    assert error_code(response) == "unauthorized"
    assert (response.header("WWW-Authenticate") or "").startswith("Bearer")
    assert api.stored_item(product.id)["name"] == "before expiry"  # type: ignore[index]

    already_expired = "tp_security_already_expired_token_0000000"
    api.add_credential(already_expired, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    use_authenticator(api, monkeypatch, Authenticator(api.credentials, cache_seconds=600))
    assert api.patch(product.id, {"name": "late"}, token=already_expired).status == 401


def test_a_revoked_token_is_refused_once_the_cache_time_has_passed(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    token = "tp_security_revoked_token_0000000000000000"
    api.add_credential(token)
    clock = FakeClock(1_000.0)
    use_authenticator(api, monkeypatch, Authenticator(api.credentials, cache_seconds=30, clock=clock))
    product = api.add_product()

    assert api.patch(product.id, {"name": "one"}, token=token).status == 200
    assert api.credentials.revoke(token, datetime.now(UTC))
    # README: a warm container trusts its look-up for the cache time, so this one still goes through
    clock.now += 29.9
    assert api.patch(product.id, {"name": "two"}, token=token).status == 200
    clock.now += 0.1
    response = api.patch(product.id, {"name": "three"}, token=token)
    assert response.status == 401, response.body
    assert error_code(response) == "unauthorized"
    assert api.stored_item(product.id)["name"] == "two"  # type: ignore[index]

    # never seen before: refused on its first request, whatever is cached
    revoked_before_use = "tp_security_revoked_before_use_000000000"
    api.add_credential(revoked_before_use, revoked=True)
    assert api.patch(product.id, {"name": "four"}, token=revoked_before_use).status == 401


# --- nothing secret in logs ------------------------------------------------------------------------------


def test_tokens_never_appear_in_logs(
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    handler_log: io.StringIO,
) -> None:
    caplog.set_level(logging.DEBUG)
    write_token, _ = api.credentials.create("ACME", "api-key", ["products:write"], None, datetime.now(UTC))
    oauth_token, _ = api.credentials.create("ACME", "oauth", ["products:write"], None, datetime.now(UTC))
    read_token, _ = api.credentials.create("ACME", "api-key", ["products:read"], None, datetime.now(UTC))
    expired_token, _ = api.credentials.create("ACME", "api-key", ["products:write"], -10, datetime.now(UTC))
    unknown_token = "tp_security_never_stored_token_00000000000"
    malformed = f"{write_token}!"  # not a b64token: refused by the header's syntax
    secrets = [write_token, oauth_token, read_token, expired_token, unknown_token, EVENT_TOKEN]
    product = api.add_product()
    key = str(uuid.uuid4())

    # The token text also goes into bodies that are refused before any write. (A body that is written is product
    # data: boto3's own DEBUG log shows DynamoDB request payloads, so a token a client stores as a name would show.)
    calls: list[tuple[Callable[[], ApiResponse], int]] = [
        (lambda: api.patch(product.id, {"name": "ok"}, token=write_token), 200),
        (lambda: api.patch(product.id, {"status": "archived"}, {"Idempotency-Key": key}, token=oauth_token), 200),
        (lambda: api.patch(product.id, {"status": "archived"}, {"Idempotency-Key": key}, token=oauth_token), 200),
        (lambda: api.patch(product.id, {"description": "stale"}, {"If-Match": '"1"'}, token=write_token), 412),
        (lambda: api.patch(product.id, {"name": "x"}, token=unknown_token), 401),
        (lambda: api.patch(product.id, {"name": "x"}, token=expired_token), 401),
        (lambda: api.patch(product.id, {"name": "x"}, {"Authorization": f"Bearer {malformed}"}, token=None), 401),
        (lambda: api.patch(product.id, {"name": "x"}, {"Authorization": write_token}, token=None), 401),
        (lambda: api.patch(product.id, {"name": "x"}, token=read_token), 403),
        (lambda: api.patch("not-an-id", {"name": "x"}, token=write_token), 400),
        (lambda: api.patch(product.id, {"apiKey": write_token, "name": ""}, token=write_token), 400),
        (lambda: api.patch(product.id, f'{{"name": "{write_token}"', token=write_token), 400),
        (lambda: api.patch(UNKNOWN_PRODUCT, {"name": "nobody"}, token=write_token), 404),
    ]
    for call, status in calls:
        response = call()
        assert response.status == status, response.body

    def explode(self: ProductUpdater, command: Any) -> Any:
        raise RuntimeError("simulated failure in the updater")

    monkeypatch.setattr(ProductUpdater, "update", explode)
    failed = api.patch(product.id, {"name": "boom"}, {"Idempotency-Key": str(uuid.uuid4())}, token=write_token)
    assert failed.status == 500
    assert "simulated" not in failed.body and "RuntimeError" not in failed.body and "Traceback" not in failed.body

    captured = capsys.readouterr()
    logged = handler_log.getvalue()
    records = "\n".join(repr(record.__dict__) for record in caplog.records)
    # the capture works: refusals and the failure were logged, so an absent token means a token not logged
    assert "request refused" in logged and "unexpected error" in logged and "simulated failure" in logged
    for secret in secrets:
        for where, text in (
            ("handler log", logged),
            ("stdout", captured.out),
            ("stderr", captured.err),
            ("log records", records),
            ("caplog", caplog.text),
        ):
            assert secret not in text, f"a token appears in {where}"
            # nor its base64url part alone (an API key without its tp_ prefix)
            assert secret.removeprefix("tp_") not in text, f"a token's secret part appears in {where}"
    for line in (logged + captured.out).splitlines():
        if line.lstrip().startswith("{"):
            json.loads(line)  # every JSON-looking line is JSON


# --- nothing secret in storage ---------------------------------------------------------------------------


def test_only_hashes_of_tokens_are_stored(api: Api) -> None:
    minted = [
        api.credentials.create("ACME", "api-key", ["products:write"], None, datetime.now(UTC))[0],
        api.credentials.create("ACME", "oauth", ["products:write"], 3600, datetime.now(UTC))[0],
        api.credentials.create("GLOBEX", "api-key", [], None, datetime.now(UTC))[0],
    ]
    assert minted[0].startswith("tp_") and not minted[1].startswith("tp_")
    page = api.client.scan(TableName=api.settings.credentials_table_name, ConsistentRead=True)
    items = [from_attribute_values(item) for item in page["Items"]]
    hashes = {str(item["tokenHash"]) for item in items}
    for token in [*minted, EVENT_TOKEN]:
        assert hashlib.sha256(token.encode("utf-8")).hexdigest() in hashes
    for item in items:
        assert re.fullmatch(r"[0-9a-f]{64}", str(item["tokenHash"]))
        stored = repr(item)
        for token in [*minted, EVENT_TOKEN]:
            assert token not in stored and token.removeprefix("tp_") not in stored


@pytest.mark.parametrize("function", ["history route", "stream function"])
def test_every_function_holds_botocore_debug_logs_back(
    function: str, boto3_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore's DEBUG output carries the signed Authorization header and the role's session token: each function,
    not only the update, holds its logger at WARNING when it wires its clients (unless set on purpose)."""
    from products_api.core.settings import ChangesSettings, HistorySettings
    from products_api.history.recorder import build_recorder
    from products_api.history.runtime import HistoryRuntime

    botocore_logger = logging.getLogger("botocore")
    monkeypatch.setattr(botocore_logger, "level", logging.NOTSET)
    if function == "history route":
        settings = HistorySettings(
            products_table_name="products", history_table_name="history", credentials_table_name="credentials"
        )
        HistoryRuntime.build(settings, boto3_session.client("dynamodb", region_name="eu-west-1"))
    else:
        build_recorder(
            ChangesSettings(history_table_name="history", limits_table_name="limits", event_bus_name="bus"),
            boto3_session,
        )
    assert botocore_logger.level == logging.WARNING
