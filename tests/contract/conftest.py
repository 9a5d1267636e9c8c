"""Fixtures of the contract tests (the `api` fixture and the backends are in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest
from support import EVENT_PRODUCT_ID, Api


@pytest.fixture
def product(api: Api) -> Any:
    return api.add_product(EVENT_PRODUCT_ID, model="LI-48V-20AH")
