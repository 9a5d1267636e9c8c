"""The update function with the write rate on (the suite's other tests run with it off, the settings' default)."""

from __future__ import annotations

import time

import boto3
import pytest
from products_api.core.dynamodb import make_client
from products_api.core.settings import load_settings
from products_api.products.runtime import Runtime
from support import EVENT_PRODUCT_ID, EVENT_SCOPES, EVENT_TOKEN, Api, handler_module


def limited_api(monkeypatch: pytest.MonkeyPatch, session: boto3.Session, rate: int, **env: str) -> Api:
    """The handler on a runtime read with WRITE_RATE_PER_MINUTE=`rate` (and `env`), the event product seeded.

    The limiter's clock stands still in the middle of the current minute: a test's requests all fall in one fixed
    window, whenever the test runs (a real minute's edge would reset the count halfway through).
    """
    monkeypatch.setenv("WRITE_RATE_PER_MINUTE", str(rate))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    client = make_client(settings, session)
    runtime = Runtime.build(settings, client)
    standing = time.time() // 60 * 60 + 30
    monkeypatch.setattr(runtime.limiter, "_clock", lambda: standing)
    monkeypatch.setattr(handler_module(), "get_runtime", lambda: runtime)
    harness = Api(client, settings, runtime)
    harness.add_credential(EVENT_TOKEN, scopes=EVENT_SCOPES)
    harness.add_product(EVENT_PRODUCT_ID, model="OLD")
    return harness
