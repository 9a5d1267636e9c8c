"""Credential checks that need a clock: the warm-container cache is the revocation delay."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from products_api.auth.credentials import Authenticator, CredentialStore, token_hash
from products_api.core.settings import load_settings
from products_api.errors import InsufficientScope, Unauthorized


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(dynamodb_client: object, table_env: object) -> CredentialStore:
    return CredentialStore(dynamodb_client, load_settings().credentials_table_name)  # type: ignore[arg-type]


def test_only_the_hash_is_stored(store: CredentialStore, dynamodb_client: object) -> None:
    token, credential = store.create("ACME", "api-key", ["products:write"], None, datetime.now(UTC))
    assert token.startswith("tp_") and len(token) > 40
    assert credential.token_hash == token_hash(token)
    items = dynamodb_client.scan(TableName=load_settings().credentials_table_name)["Items"]  # type: ignore[attr-defined]
    assert len(items) == 1
    assert token not in repr(items)
    assert items[0]["tokenHash"]["S"] == token_hash(token)


def test_oauth_tokens_have_no_api_key_prefix(store: CredentialStore) -> None:
    token, credential = store.create("ACME", "oauth", ["products:write"], 3600, datetime.now(UTC))
    assert not token.startswith("tp_")
    assert credential.kind == "oauth" and credential.expires_at is not None


def test_revocation_bites_once_the_cache_time_has_passed(store: CredentialStore) -> None:
    clock = Clock()
    authenticator = Authenticator(store, cache_seconds=30, clock=clock)
    token, _ = store.create("ACME", "api-key", ["products:write"], None, datetime.now(UTC))
    assert authenticator.authenticate(f"Bearer {token}", "products:write").company_id == "ACME"
    assert store.revoke(token, datetime.now(UTC))
    clock.now += 29
    assert authenticator.authenticate(f"Bearer {token}", "products:write").company_id == "ACME"
    clock.now += 2
    with pytest.raises(Unauthorized, match="revoked"):
        authenticator.authenticate(f"Bearer {token}", "products:write")


def test_without_cache_revocation_is_immediate(store: CredentialStore) -> None:
    authenticator = Authenticator(store, cache_seconds=0)
    token, _ = store.create("ACME", "api-key", ["products:write"], None, datetime.now(UTC))
    authenticator.authenticate(f"Bearer {token}", "products:write")
    store.revoke(token, datetime.now(UTC))
    with pytest.raises(Unauthorized):
        authenticator.authenticate(f"Bearer {token}", "products:write")


def test_expiry_is_checked_on_every_request_even_when_cached(store: CredentialStore) -> None:
    wall = Clock()
    wall.now = datetime.now(UTC).timestamp()
    authenticator = Authenticator(store, cache_seconds=3600, wall_clock=wall)
    token, _ = store.create("ACME", "oauth", ["products:write"], 60, datetime.now(UTC))
    authenticator.authenticate(f"Bearer {token}", "products:write")
    wall.now += 61
    with pytest.raises(Unauthorized, match="expired"):
        authenticator.authenticate(f"Bearer {token}", "products:write")


def test_unknown_tokens_are_cached_too(store: CredentialStore) -> None:
    calls: list[str] = []
    original = store.find

    def counting_find(hashed: str) -> object:
        calls.append(hashed)
        return original(hashed)

    store.find = counting_find  # type: ignore[method-assign,assignment]
    authenticator = Authenticator(store, cache_seconds=60)
    for _ in range(3):
        with pytest.raises(Unauthorized):
            authenticator.authenticate("Bearer tp_not_a_real_token_000000000000", "products:write")
    assert len(calls) == 1


def test_scope_is_required(store: CredentialStore) -> None:
    token, _ = store.create("ACME", "api-key", ["products:read"], None, datetime.now(UTC))
    with pytest.raises(InsufficientScope):
        Authenticator(store, cache_seconds=0).authenticate(f"Bearer {token}", "products:write")


def test_revoking_an_unknown_token_says_so(store: CredentialStore) -> None:
    assert store.revoke("tp_never_minted_0000000000000000", datetime.now(UTC)) is False
