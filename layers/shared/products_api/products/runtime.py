"""What a warm container keeps between requests: settings, one DynamoDB client, and the objects built on it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from products_api.api.idempotency import IdempotencyStore
from products_api.api.observability import count_metric, protect_library_logs
from products_api.api.runtime import authenticator_for
from products_api.auth.credentials import Authenticator
from products_api.core.dynamodb import make_client
from products_api.core.settings import Settings, load_settings
from products_api.limits.limiter import WriteLimiter, build_limiter
from products_api.products.rules import ProductUpdater
from products_api.products.service import PatchProductService
from products_api.products.store import ProductStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    authenticator: Authenticator
    patch_service: PatchProductService
    limiter: WriteLimiter

    @classmethod
    def build(cls, settings: Settings, client: DynamoDBClient) -> Runtime:
        """Wire everything on one injected client (moto, DynamoDB Local or AWS)."""
        protect_library_logs()
        updater = ProductUpdater(
            ProductStore(client, settings.products_table_name), settings.contention_margin_ms / 1000
        )
        return cls(
            settings=settings,
            authenticator=authenticator_for(settings, client),
            patch_service=PatchProductService(
                updater, IdempotencyStore(client, settings.idempotency_table_name, settings.idempotency_expiry_seconds)
            ),
            limiter=build_limiter(settings, client, count_metric),
        )


@functools.cache
def get_runtime() -> Runtime:
    """Built on the first request of a container, then reused."""
    settings = load_settings()
    return Runtime.build(settings, make_client(settings))
