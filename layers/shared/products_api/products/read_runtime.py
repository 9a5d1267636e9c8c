"""What a warm read-route container keeps between requests: its settings, one DynamoDB client, the objects on it.

Apart from `products/runtime.py` so that the read function never imports the update's idempotency machinery.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from products_api.api.observability import protect_library_logs
from products_api.auth.credentials import Authenticator, CredentialStore
from products_api.core.dynamodb import make_client
from products_api.core.settings import ReadSettings, get_read_settings
from products_api.products.reader import ProductReader
from products_api.products.store import ProductStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


@dataclass(frozen=True)
class ReadRuntime:
    settings: ReadSettings
    authenticator: Authenticator
    reader: ProductReader

    @classmethod
    def build(cls, settings: ReadSettings, client: DynamoDBClient) -> ReadRuntime:
        """Wire everything on one injected client (moto, DynamoDB Local or AWS)."""
        protect_library_logs()
        return cls(
            settings=settings,
            authenticator=Authenticator(
                CredentialStore(client, settings.credentials_table_name), settings.credential_cache_seconds
            ),
            reader=ProductReader(ProductStore(client, settings.products_table_name)),
        )


@functools.cache
def get_read_runtime() -> ReadRuntime:
    """Built on the first request of a container, then reused."""
    settings = get_read_settings()
    return ReadRuntime.build(settings, make_client(settings))
