"""The local runner's demo data: seeded once, found again, and its key re-minted when it lacks a scope."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from products_api.auth.credentials import CredentialStore, token_hash
from products_api.core.dynamodb import to_attribute_values
from products_api_local.demo import DEMO_SCOPES, ensure_demo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def test_demo_key_reads_and_writes_and_is_kept(
    dynamodb_client: DynamoDBClient, table_names: dict[str, str], tmp_path: Path
) -> None:
    products, credentials = table_names["ProductsTable"], table_names["CredentialsTable"]
    demo, seeded = ensure_demo(dynamodb_client, products, credentials, tmp_path)
    assert seeded
    credential = CredentialStore(dynamodb_client, credentials).find(token_hash(demo.token))
    assert credential is not None
    assert set(credential.scopes) == {"products:write", "products:read"} == set(DEMO_SCOPES)
    assert ensure_demo(dynamodb_client, products, credentials, tmp_path) == (demo, False)


def test_an_older_demo_key_without_the_read_scope_is_replaced(
    dynamodb_client: DynamoDBClient, table_names: dict[str, str], tmp_path: Path
) -> None:
    products, credentials = table_names["ProductsTable"], table_names["CredentialsTable"]
    old, _ = ensure_demo(dynamodb_client, products, credentials, tmp_path)
    store = CredentialStore(dynamodb_client, credentials)
    stored = store.find(token_hash(old.token))
    assert stored is not None
    # as an earlier runner minted it: write scope only
    dynamodb_client.put_item(
        TableName=credentials,
        Item=to_attribute_values(
            stored.model_copy(update={"scopes": ["products:write"]}).model_dump(exclude_none=True)
        ),
    )
    new, seeded = ensure_demo(dynamodb_client, products, credentials, tmp_path)
    assert seeded
    assert new.product_id == old.product_id, "the demo product is kept"
    assert new.token != old.token
    minted = store.find(token_hash(new.token))
    assert minted is not None and "products:read" in minted.scopes
    assert ensure_demo(dynamodb_client, products, credentials, tmp_path) == (new, False)
