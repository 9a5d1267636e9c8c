"""Each function reads its own settings model: only the tables it uses are required, every problem is named."""

from __future__ import annotations

import pytest
from products_api.core.settings import ConfigurationError, HistorySettings, Settings, load_settings, read_settings

TABLE_VARIABLES = (
    "PRODUCTS_TABLE_NAME",
    "IDEMPOTENCY_TABLE_NAME",
    "CREDENTIALS_TABLE_NAME",
    "HISTORY_TABLE_NAME",
)


@pytest.fixture(autouse=True)
def _no_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in TABLE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def test_history_settings_need_no_idempotency_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRODUCTS_TABLE_NAME", "ProductsTable")
    monkeypatch.setenv("CREDENTIALS_TABLE_NAME", "CredentialsTable")
    monkeypatch.setenv("HISTORY_TABLE_NAME", "HistoryTable")
    monkeypatch.setenv("CREDENTIAL_CACHE_SECONDS", "5")
    settings = read_settings(HistorySettings)
    assert (settings.products_table_name, settings.history_table_name, settings.credential_cache_seconds) == (
        "ProductsTable",
        "HistoryTable",
        5.0,
    )
    # the update function needs its idempotency table, and says so
    with pytest.raises(ConfigurationError, match="IDEMPOTENCY_TABLE_NAME"):
        load_settings()


def test_update_settings_need_no_history_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRODUCTS_TABLE_NAME", "ProductsTable")
    monkeypatch.setenv("CREDENTIALS_TABLE_NAME", "CredentialsTable")
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", "IdempotencyTable")
    assert isinstance(load_settings(), Settings)
    with pytest.raises(ConfigurationError, match="HISTORY_TABLE_NAME"):
        read_settings(HistorySettings)


def test_every_problem_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HISTORY_TABLE_NAME", "ab")
    monkeypatch.setenv("DYNAMODB_MAX_ATTEMPTS", "0")
    with pytest.raises(ConfigurationError) as failure:
        read_settings(HistorySettings)
    message = str(failure.value)
    for variable in ("PRODUCTS_TABLE_NAME", "CREDENTIALS_TABLE_NAME", "HISTORY_TABLE_NAME", "DYNAMODB_MAX_ATTEMPTS"):
        assert variable in message
    assert "IDEMPOTENCY_TABLE_NAME" not in message
