"""The `api` and `history_api` fixtures: the real handlers wired to the current backend's client, with the events'
credential.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from products_api.core.dynamodb import make_client
from products_api.core.settings import HistorySettings, load_settings, read_settings
from products_api.history.runtime import HistoryRuntime
from products_api.products.runtime import Runtime
from support import EVENT_SCOPES, EVENT_TOKEN, Api, HistoryApi, handler_module, history_handler_module

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


@pytest.fixture
def api(
    dynamodb_client: DynamoDBClient,
    table_env: dict[str, str],
    boto3_session: boto3.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> Api:
    """The handler on a runtime injected with a client made as a container makes it (timeouts, retry mode),
    pointed at this test's backend by the environment (AWS_ENDPOINT_URL_DYNAMODB, or moto's interception).
    """
    settings = load_settings()
    client = make_client(settings, boto3_session)
    runtime = Runtime.build(settings, client)
    monkeypatch.setattr(handler_module(), "get_runtime", lambda: runtime)
    harness = Api(client, settings, runtime)
    harness.add_credential(EVENT_TOKEN, scopes=EVENT_SCOPES)
    return harness


@pytest.fixture
def handler_log() -> Iterator[io.StringIO]:
    """Everything the handler's Powertools Logger writes, at DEBUG. Its stream handler was made with the
    sys.stdout of the moment the module was first imported, which capsys does not see, so point it here.
    """
    logger = handler_module().logger
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous_stream = handler.setStream(buffer)
    previous_level = logger.log_level
    logger.setLevel("DEBUG")
    try:
        yield buffer
    finally:
        logger.setLevel(previous_level)
        handler.setStream(previous_stream)


@pytest.fixture
def history_api(api: Api, monkeypatch: pytest.MonkeyPatch) -> HistoryApi:
    """The history handler on its own settings (read as its container reads them) and on `api`'s client, so data
    seeded through `api` is what it reads and DynamoDB calls can be counted on one client.
    """
    runtime = HistoryRuntime.build(read_settings(HistorySettings), api.client)
    monkeypatch.setattr(history_handler_module(), "get_history_runtime", lambda: runtime)
    return HistoryApi(api, runtime)
