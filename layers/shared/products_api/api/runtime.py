"""What every API function's warm container keeps between requests: its settings, the credential look-up (one
DynamoDB client under both) and the route's own service. Each function's runtime module says only what its service is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Self, TypeVar

from products_api.api.observability import protect_library_logs
from products_api.auth.credentials import Authenticator, CredentialStore
from products_api.core.settings import ApiSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

SettingsT = TypeVar("SettingsT", bound=ApiSettings)
ServiceT = TypeVar("ServiceT")


def authenticator_for(settings: ApiSettings, client: DynamoDBClient) -> Authenticator:
    """The credential look-up of an API function, with the cache its settings ask for."""
    return Authenticator(CredentialStore(client, settings.credentials_table_name), settings.credential_cache_seconds)


@dataclass(frozen=True)
class RouteRuntime(Generic[SettingsT, ServiceT]):
    settings: SettingsT
    authenticator: Authenticator
    reader: ServiceT

    @classmethod
    def wire(cls, settings: SettingsT, client: DynamoDBClient, reader: ServiceT) -> Self:
        """The runtime on one injected client (moto, DynamoDB Local or AWS), with the route's `reader` built on it."""
        protect_library_logs()
        return cls(settings=settings, authenticator=authenticator_for(settings, client), reader=reader)
