"""Fixtures of the unit tests (the `api` fixture and the backends are in tests/conftest.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from observability_support import Observe, Observed
from openapi_support import DOCUMENT, HISTORY_PATH, PATH
from support import Api, FakeContext


@pytest.fixture
def observe(api: Api, handler_log: Any, capsys: pytest.CaptureFixture[str]) -> Observe:
    """Invoke the handler on one event; what it logged (every line parsed as JSON) and the EMF it printed."""

    def run(event: dict[str, Any], context: FakeContext | None = None) -> Observed:
        capsys.readouterr()
        handler_log.seek(0)
        handler_log.truncate()
        response = api.invoke(event, context)
        text = handler_log.getvalue()
        lines = [json.loads(line) for line in text.splitlines()]
        printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
        assert all("_aws" in blob for blob in printed), f"stdout holds something other than EMF: {printed}"
        return Observed(event, response, lines, text, printed)

    return run


# --- docs/openapi.json (tests/unit/test_openapi_*.py) ---


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The committed OpenAPI document, parsed."""
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def operation(document: dict[str, Any]) -> dict[str, Any]:
    """The PATCH operation of the document."""
    found: dict[str, Any] = document["paths"][PATH]["patch"]
    return found


@pytest.fixture(scope="module")
def history_operation(document: dict[str, Any]) -> dict[str, Any]:
    """The history's GET operation of the document."""
    found: dict[str, Any] = document["paths"][HISTORY_PATH]["get"]
    return found
