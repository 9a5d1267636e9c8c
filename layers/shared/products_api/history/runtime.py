"""What a warm history-route container keeps between requests: its settings, one DynamoDB client, the objects on it.

Apart from `products/runtime.py` so that the read-only function never imports the update's idempotency machinery.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from products_api.api.runtime import RouteRuntime
from products_api.core.dynamodb import make_client
from products_api.core.settings import HistorySettings, read_settings
from products_api.history.reader import ProductHistoryReader
from products_api.history.store import HistoryStore
from products_api.products.store import ProductStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class HistoryRuntime(RouteRuntime[HistorySettings, ProductHistoryReader]):
    @classmethod
    def build(cls, settings: HistorySettings, client: DynamoDBClient) -> HistoryRuntime:
        history = HistoryStore(client, settings.history_table_name)
        return cls.wire(
            settings, client, ProductHistoryReader(ProductStore(client, settings.products_table_name), history)
        )


@functools.cache
def get_history_runtime() -> HistoryRuntime:
    """Built on the first request of a container, then reused."""
    settings = read_settings(HistorySettings)
    return HistoryRuntime.build(settings, make_client(settings))
