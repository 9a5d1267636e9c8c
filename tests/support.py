"""Test support: run the real handler on HTTP API v2 events built from `events/`, with seeded data."""

from __future__ import annotations

import copy
import json
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import simplejson
from products_api.auth.credentials import Credential, CredentialStore, token_hash
from products_api.core.dynamodb import from_attribute_values, to_attribute_values
from products_api.core.settings import Settings
from products_api.history.runtime import HistoryRuntime
from products_api.history.store import FieldChange, HistoryEntry, HistoryStore
from products_api.products.models import Product, company_partition, product_sort_key
from products_api.products.runtime import Runtime
from products_api.products.store import ProductStore
from products_api_local.functions.context import LambdaContext
from products_api_local.functions.loader import import_function_module

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
EVENT_PRODUCT_ID = "6650a1b2c3d4e5f6a7b8c9d0"
EVENT_TOKEN = "tp_events_example_token_0000000000000000"
# What the events' credential may do: the example client both reads and changes products.
EVENT_SCOPES = ("products:write", "products:read")


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def run_in_project(
    command: Sequence[str], *, stdin: str = "", env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`command` run from the project's root as a shell would run it: its exit status and text output, never raising
    on a non-zero status (the tests read it).
    """
    return subprocess.run(
        list(command), cwd=ROOT, input=stdin, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def http_event_files() -> list[Path]:
    """The HTTP API events of `events/`; the others are DynamoDB stream events (a `Records` list)."""
    return sorted(path for path in EVENTS.glob("*.json") if "Records" not in json.loads(path.read_text()))


def function_module(name: str) -> ModuleType:
    """A function's own module, imported from its folder (functions/<name>/<name>.py) as Lambda does."""
    return import_function_module(ROOT / "functions" / name, name)


def handler_module() -> ModuleType:
    """The update function's module (PATCH)."""
    return function_module("update_product")


def history_handler_module() -> ModuleType:
    """The history function's module (GET .../history)."""
    return function_module("get_product_history")


class FakeContext(LambdaContext):
    """The shared Lambda context stand-in, as the update function gets it; `remaining_ms` is its time left."""

    def __init__(self, remaining_ms: int = 10_000) -> None:
        super().__init__("UpdateProductFunction", remaining_ms=remaining_ms, memory_limit_in_mb=512)


def sample_product(
    product_id: str | None = None, company_id: str = "ACME", model: str | None = None, **fields: Any
) -> Product:
    """A product as the tests seed it: a battery pack of version 1 with a unique model, `fields` (by attribute name)
    changing any of its other values.
    """
    created = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    product = Product(
        id=product_id or uuid.uuid4().hex[:24],
        company_id=company_id,
        name=fields.pop("name", "Li-Ion 48V Battery Pack"),
        model=model or f"MODEL-{uuid.uuid4().hex[:8]}",
        description=fields.pop("description", "Original description"),
        default_field_values=fields.pop("default_field_values", {"chemistry": "NMC", "capacityWh": 960}),
        image_urls=fields.pop("image_urls", ["https://cdn.example.com/hero.jpg"]),
        status=fields.pop("status", "active"),
        source_locale=fields.pop("source_locale", "en"),
        version=fields.pop("version", 1),
        created_at=created,
        updated_at=fields.pop("updated_at", created + timedelta(days=1)),
    )
    assert not fields, f"unknown fields {fields}"
    return product


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        return simplejson.loads(self.body, use_decimal=True)

    def header(self, name: str) -> str | None:
        lowered = {key.lower(): value for key, value in self.headers.items()}
        return lowered.get(name.lower())


def _request_event(
    event_name: str, path: str, product_id: str, headers: Mapping[str, str | None] | None, token: str | None
) -> dict[str, Any]:
    """`events/<event_name>.json` for this path, with a fresh request id and these headers (API Gateway's HTTP API
    lower-cases header names; a None value removes the header)."""
    event = copy.deepcopy(load_event(event_name))
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event["pathParameters"] = {"id": product_id}
    event_headers = {k: v for k, v in event["headers"].items() if k not in {"authorization", "content-length"}}
    if token is not None:
        event_headers["authorization"] = f"Bearer {token}"
    for name, value in (headers or {}).items():
        if value is None:
            event_headers.pop(name.lower(), None)
        else:
            event_headers[name.lower()] = value
    event["headers"] = event_headers
    return event


def product_event(
    product_id: str,
    body: str | bytes | dict[str, Any] | None,
    headers: dict[str, str] | None = None,
    *,
    token: str | None = EVENT_TOKEN,
    base_event: str = "patch_product",
) -> dict[str, Any]:
    """An event as API Gateway sends it: `events/patch_product.json` with this path, body and headers."""
    event = _request_event(base_event, f"/api/v1/products/{product_id}", product_id, headers, token)
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, bytes):
        import base64

        event["body"] = base64.b64encode(body).decode("ascii")
        event["isBase64Encoded"] = True
    else:
        event["body"] = body
        event["isBase64Encoded"] = False
    return event


def history_event(
    product_id: str,
    query: dict[str, str] | None = None,
    headers: dict[str, str | None] | None = None,
    *,
    token: str | None = EVENT_TOKEN,
) -> dict[str, Any]:
    """A GET of the history as API Gateway sends it: `events/get_product_history.json` with this path and query.

    `query` holds the decoded parameters (as API Gateway passes them); the raw query string is encoded from them.
    """
    event = _request_event("get_product_history", f"/api/v1/products/{product_id}/history", product_id, headers, token)
    event["rawQueryString"] = urlencode(query or {})
    event.pop("queryStringParameters", None)
    if query:
        event["queryStringParameters"] = dict(query)
    return event


def invoke_handler(module: ModuleType, event: dict[str, Any], context: FakeContext | None = None) -> ApiResponse:
    """Call a function's handler as Lambda does and read the HTTP API v2 result it returns."""
    result = module.lambda_handler(event, context or FakeContext())
    return ApiResponse(int(result["statusCode"]), dict(result.get("headers") or {}), result.get("body") or "")


class FunctionCaller:
    """A function's handler, imported from its folder as Lambda does, called in this process with HTTP API events."""

    def __init__(self, handler: ModuleType) -> None:
        self.handler = handler

    def invoke(self, event: dict[str, Any], context: FakeContext | None = None) -> ApiResponse:
        return invoke_handler(self.handler, event, context)


class Api(FunctionCaller):
    """The deployed function's entry point on one backend, with helpers to seed and inspect data."""

    def __init__(self, client: DynamoDBClient, settings: Settings, runtime: Runtime) -> None:
        super().__init__(handler_module())
        self.client = client
        self.settings = settings
        self.runtime = runtime
        self.products = ProductStore(client, settings.products_table_name)
        self.credentials = CredentialStore(client, settings.credentials_table_name)

    def patch(
        self,
        product_id: str,
        body: str | bytes | dict[str, Any] | None,
        headers: dict[str, str] | None = None,
        *,
        token: str | None = EVENT_TOKEN,
        context: FakeContext | None = None,
    ) -> ApiResponse:
        return self.invoke(product_event(product_id, body, headers, token=token), context)

    def add_credential(
        self,
        token: str,
        company_id: str = "ACME",
        scopes: tuple[str, ...] = ("products:write",),
        *,
        kind: str = "api-key",
        expires_at: datetime | None = None,
        revoked: bool = False,
    ) -> Credential:
        """A credential with a token the test chooses (the events carry a fixed one)."""
        now = datetime.now(UTC)
        credential = Credential(
            token_hash=token_hash(token),
            credential_id="cred_" + uuid.uuid4().hex[:16],
            company_id=company_id,
            kind=kind,  # type: ignore[arg-type]
            scopes=list(scopes),
            created_at=now.isoformat(),
            expires_at=int(expires_at.timestamp()) if expires_at else None,
            revoked_at=now.isoformat() if revoked else None,
        )
        self.client.put_item(
            TableName=self.settings.credentials_table_name,
            Item=to_attribute_values(credential.model_dump(exclude_none=True)),
        )
        return credential

    def add_product(
        self,
        product_id: str | None = None,
        company_id: str = "ACME",
        model: str | None = None,
        **fields: Any,
    ) -> Product:
        product = sample_product(product_id, company_id, model, **fields)
        self.products.create(product)
        return product

    def stored_item(self, product_id: str, company_id: str = "ACME") -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.settings.products_table_name,
            Key=to_attribute_values({"pk": company_partition(company_id), "sk": product_sort_key(product_id)}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return from_attribute_values(item) if item else None

    def all_items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.settings.products_table_name, "ConsistentRead": True}
        while True:
            page = self.client.scan(**kwargs)
            items.extend(from_attribute_values(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def model_locks(self, company_id: str = "ACME") -> dict[str, str]:
        """Lock sort key -> owning product id, for one company."""
        return {
            item["sk"]: item["productId"]
            for item in self.all_items()
            if item["pk"] == company_partition(company_id) and item["sk"].startswith("MODEL#")
        }

    def idempotency_records(self) -> list[dict[str, Any]]:
        page = self.client.scan(TableName=self.settings.idempotency_table_name, ConsistentRead=True)
        return [from_attribute_values(item) for item in page.get("Items", [])]


class HistoryApi(FunctionCaller):
    """The history function's entry point on one backend, beside `Api` (which seeds products and credentials)."""

    def __init__(self, api: Api, runtime: HistoryRuntime) -> None:
        super().__init__(history_handler_module())
        self.api = api
        self.runtime = runtime
        self.store = HistoryStore(api.client, runtime.settings.history_table_name)

    def get(
        self,
        product_id: str,
        query: dict[str, str] | None = None,
        headers: dict[str, str | None] | None = None,
        *,
        token: str | None = EVENT_TOKEN,
    ) -> ApiResponse:
        return self.invoke(history_event(product_id, query, headers, token=token))

    def record(
        self,
        product: Product,
        version: int,
        changes: tuple[FieldChange, ...] | None = None,
        *,
        changed_by: str | None = "cred_example",
    ) -> HistoryEntry:
        """Store a history record as the stream function would (HistoryStore.add), for the product's company."""
        entry = HistoryEntry(
            company_id=product.company_id,
            product_id=product.id,
            version=version,
            changed_at=datetime(2026, 5, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=version),
            changed_by=changed_by,
            changes=changes
            if changes is not None
            else (FieldChange(field="name", before=f"name {version - 1}", after=f"name {version}"),),
        )
        assert self.store.record(entry), f"version {version} was already recorded"
        return entry


def exact(value: str) -> Decimal:
    return Decimal(value)


# --- asserting on error answers (the contract's error body) ---


def assert_error(response: ApiResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, response.body
    body = response.json
    assert body["code"] == code, body
    assert isinstance(body["error"], str) and body["error"]
    assert body["requestId"]
    assert response.header("Content-Type") == "application/json"
    if code != "validation_error":
        assert "details" not in body
    return dict(body)


def details_by_field(response: ApiResponse) -> dict[str, str]:
    body = assert_error(response, 400, "validation_error")
    assert body["error"] == "Validation failed"
    fields = [detail["field"] for detail in body["details"]]
    assert len(fields) == len(set(fields)), "one entry per field"
    return {detail["field"]: detail["message"] for detail in body["details"]}
