"""The local runner's demo data: one company, one product (the docs' example) and an API key for it.

The ids and the token are kept in `<data dir>/demo.json`, so every later start on the same data prints the same
ready-to-paste request instead of seeding again. The token is a local, throwaway credential: it only opens the
DynamoDB Local database next to it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from products_api.auth.credentials import CredentialStore, token_hash
from products_api.core.dynamodb import from_attribute_values, to_attribute_values
from products_api.errors import DuplicateModel
from products_api.products.models import NewProduct, company_partition, model_key, model_lock_sort_key
from products_api.products.store import ProductStore
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from products_api_local.cli import import_products

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

DEMO_COMPANY = "demo-company"
# The demo key both changes products and reads their history.
DEMO_SCOPES = ["products:write", "products:read"]
STATE_FILE = "demo.json"
# The example product of the update-product docs, so their examples read naturally against it.
DEMO_PRODUCT: dict[str, Any] = {
    "name": "Li-Ion 48V Battery Pack",
    "model": "LI-48V-20AH",
    "defaultFieldValues": {"chemistry": "NMC", "capacityWh": 960},
    "imageUrls": ["https://cdn.example.com/hero.jpg"],
    "sourceLocale": "en",
}
# The body of the docs' curl example.
EXAMPLE_PATCH_BODY = """{
    "name": "Li-Ion 48V Battery Pack (revised)",
    "imageUrls": ["https://cdn.example.com/new-hero.jpg"]
  }"""


class Demo(BaseModel):
    """The demo's company, product and API key; in demo.json under camelCase keys (`productId`)."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, validate_by_name=True, validate_by_alias=True)

    company: str
    product_id: str
    token: str


def ensure_demo(
    client: DynamoDBClient, products_table: str, credentials_table: str, state_dir: Path | None
) -> tuple[Demo, bool]:
    """The demo data, seeded unless `state_dir` already records it and the database still holds it.

    Returns the demo and whether it was seeded now. Without `state_dir` (an in-memory database) it always seeds.
    """
    products = ProductStore(client, products_table)
    credentials = CredentialStore(client, credentials_table)
    state_file = state_dir / STATE_FILE if state_dir is not None else None
    known = _read_state(state_file) if state_file is not None else None
    if known is not None and products.get(known.company, known.product_id) is not None:
        credential = credentials.find(token_hash(known.token))
        # a key minted by an older runner may lack a scope the demo now needs: mint a new one then
        if credential is not None and credential.revoked_at is None and set(DEMO_SCOPES) <= set(credential.scopes):
            return known, False

    product = NewProduct.model_validate(DEMO_PRODUCT)
    try:
        (product_id,) = import_products(products, DEMO_COMPANY, [product])
    except DuplicateModel:
        # demo.json was lost but the database kept the product: adopt it rather than fail.
        product_id = _model_owner(client, products_table, product.model)
    token, _ = credentials.create(DEMO_COMPANY, "api-key", DEMO_SCOPES, None, datetime.now(UTC))
    demo = Demo(company=DEMO_COMPANY, product_id=product_id, token=token)
    if state_file is not None:
        _write_state(state_file, demo)
    return demo, True


def _model_owner(client: DynamoDBClient, products_table: str, model: str) -> str:
    key = {"pk": company_partition(DEMO_COMPANY), "sk": model_lock_sort_key(model_key(model))}
    item = client.get_item(TableName=products_table, Key=to_attribute_values(key), ConsistentRead=True).get("Item")
    if item is None:
        raise RuntimeError(f"model {model!r} is reported taken in {DEMO_COMPANY} but has no lock item")
    return str(from_attribute_values(item)["productId"])


def _read_state(path: Path) -> Demo | None:
    try:
        return Demo.model_validate_json(path.read_bytes())
    except (OSError, ValueError):  # pydantic's ValidationError is a ValueError
        # Missing or damaged: seeding again is the remedy, not an error.
        return None


def _write_state(path: Path, demo: Demo) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    # Only the owner may read the token.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(demo.model_dump(by_alias=True), handle, indent=2)
        handle.write("\n")
    # A crash mid-write leaves the previous file (or none), never half of one.
    temporary.replace(path)


def history_curl_example(base_url: str, demo: Demo) -> str:
    """A ready-to-paste read of the demo product's history."""
    return (
        f"curl -sS '{base_url}/api/v1/products/{demo.product_id}/history?limit=5' \\\n"
        f'  -H "Authorization: Bearer {demo.token}"'
    )


def curl_example(base_url: str, demo: Demo) -> str:
    """The docs' curl example against this API and the demo product, ready to paste."""
    return (
        "curl -sS -X PATCH \\\n"
        f"  {base_url}/api/v1/products/{demo.product_id} \\\n"
        f'  -H "Authorization: Bearer {demo.token}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d '{EXAMPLE_PATCH_BODY}'"
    )
