"""The warm container's credential cache: unknown tokens are kept apart and cannot evict good credentials."""

from __future__ import annotations

import pytest
from products_api.auth import credentials
from products_api.auth.credentials import Authenticator, Credential, token_hash
from products_api.errors import InsufficientScope, Unauthorized

GOOD = "tp_" + "g" * 40


class CountingStore:
    """A credential store that knows one token and counts its look-ups."""

    def __init__(self) -> None:
        self.finds: list[str] = []
        self.good = Credential(
            token_hash=token_hash(GOOD),
            credential_id="cred_good",
            company_id="ACME",
            kind="api-key",
            scopes=["products:write"],
            created_at="2026-05-01T00:00:00.000Z",
        )

    def find(self, hashed: str) -> Credential | None:
        self.finds.append(hashed)
        return self.good if hashed == self.good.token_hash else None


def test_a_spray_of_unknown_tokens_leaves_the_good_credential_cached() -> None:
    store = CountingStore()
    authenticator = Authenticator(store, 60.0, clock=lambda: 0.0)  # type: ignore[arg-type]
    authenticator.authenticate(f"Bearer {GOOD}", "products:write")
    for number in range(credentials._CACHE_ENTRIES * 2):
        token = f"tp_unknown_{number:040d}"
        with pytest.raises(Unauthorized):
            authenticator.authenticate(f"Bearer {token}", "products:write")
    store.finds.clear()
    authenticator.authenticate(f"Bearer {GOOD}", "products:write")
    assert store.finds == []  # still cached: no look-up
    assert len(authenticator._unknown) == credentials._UNKNOWN_ENTRIES


def test_an_unknown_token_is_remembered_for_the_cache_time() -> None:
    store = CountingStore()
    now = [0.0]
    authenticator = Authenticator(store, 60.0, clock=lambda: now[0])  # type: ignore[arg-type]
    unknown = "tp_" + "u" * 40
    for _ in range(3):
        with pytest.raises(Unauthorized):
            authenticator.authenticate(f"Bearer {unknown}", "products:write")
    assert len(store.finds) == 1
    now[0] = 61.0
    with pytest.raises(Unauthorized):
        authenticator.authenticate(f"Bearer {unknown}", "products:write")
    assert len(store.finds) == 2


def test_a_cached_credential_is_still_checked_on_every_request() -> None:
    """The caller is built once per cached credential, but its expiry and scopes are checked on each request."""
    store = CountingStore()
    wall = [1_000.0]
    store.good = store.good.model_copy(update={"expires_at": 1_060})
    authenticator = Authenticator(store, 600.0, clock=lambda: 0.0, wall_clock=lambda: wall[0])  # type: ignore[arg-type]
    first = authenticator.authenticate(f"Bearer {GOOD}", "products:write")
    second = authenticator.authenticate(f"Bearer {GOOD}", "products:write")
    assert (first.company_id, first.credential_id, first.kind, first.scopes) == (
        "ACME",
        "cred_good",
        "api-key",
        frozenset({"products:write"}),
    )
    assert second == first and len(store.finds) == 1
    with pytest.raises(InsufficientScope):
        authenticator.authenticate(f"Bearer {GOOD}", "products:read:all")
    wall[0] = 1_060.0
    with pytest.raises(Unauthorized) as refused:
        authenticator.authenticate(f"Bearer {GOOD}", "products:write")
    assert refused.value.reason == "credential_expired" and len(store.finds) == 1


def test_a_cached_request_hashes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caches are keyed by the token: only a look-up in the store (which keeps hashes) hashes it."""
    store = CountingStore()
    authenticator = Authenticator(store, 60.0, clock=lambda: 0.0)  # type: ignore[arg-type]
    unknown = "tp_" + "u" * 40
    hashed: list[str] = []
    real_hash = credentials.token_hash

    def counting_hash(token: str) -> str:
        hashed.append(token)
        return real_hash(token)

    monkeypatch.setattr(credentials, "token_hash", counting_hash)
    authenticator.authenticate(f"Bearer {GOOD}", "products:write")
    with pytest.raises(Unauthorized):
        authenticator.authenticate(f"Bearer {unknown}", "products:write")
    assert hashed == [GOOD, unknown] and store.finds == [real_hash(GOOD), real_hash(unknown)]
    for _ in range(3):
        authenticator.authenticate(f"Bearer {GOOD}", "products:write")
        with pytest.raises(Unauthorized):
            authenticator.authenticate(f"Bearer {unknown}", "products:write")
    assert hashed == [GOOD, unknown] and len(store.finds) == 2
