"""What a warm read-route container keeps between requests: its settings, one DynamoDB client, the objects on it.

Apart from `products/runtime.py` so that the read function never imports the update's idempotency machinery.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from products_api.api.runtime import RouteRuntime
from products_api.core.dynamodb import make_client
from products_api.core.settings import ReadSettings, read_settings
from products_api.products.reader import ProductReader
from products_api.products.store import ProductStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class ReadRuntime(RouteRuntime[ReadSettings, ProductReader]):
    @classmethod
    def build(cls, settings: ReadSettings, client: DynamoDBClient) -> ReadRuntime:
        return cls.wire(settings, client, ProductReader(ProductStore(client, settings.products_table_name)))


@functools.cache
def get_read_runtime() -> ReadRuntime:
    """Built on the first request of a container, then reused."""
    settings = read_settings(ReadSettings)
    return ReadRuntime.build(settings, make_client(settings))
