"""`products-api`: mint and revoke credentials, import products, against the DynamoDB the settings name.

Point it at DynamoDB Local with the standard AWS_ENDPOINT_URL_DYNAMODB variable; the table names come
from the same environment variables the functions read (PRODUCTS_TABLE_NAME, ...).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from products_api.auth.credentials import CredentialStore
from products_api.core import jsonio
from products_api.core.dynamodb import make_client
from products_api.core.settings import ConfigurationError, Settings, load_settings
from products_api.errors import DomainError, DuplicateModel, InvalidJson
from products_api.products.models import NewProduct, model_key
from products_api.products.store import ProductStore
from pydantic import ValidationError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_counter = secrets.randbelow(1 << 24)


def new_object_id() -> str:
    """A MongoDB-style ObjectId: 4 bytes of seconds, 5 random bytes, a 3-byte counter."""
    global _counter  # one process-wide counter, as ObjectId prescribes
    _counter = (_counter + 1) % (1 << 24)
    return f"{int(time.time()):08x}{secrets.token_hex(5)}{_counter:06x}"


def read_products_file(path: Path) -> list[NewProduct]:
    """Every problem of the file at once, item by item, before anything is written."""
    try:
        document = jsonio.parse_object(b'{"items":' + path.read_bytes() + b"}")["items"]
    except InvalidJson as exc:
        raise SystemExit(f"error: {path}: {exc}") from exc
    if not isinstance(document, list):
        raise SystemExit(f"error: {path}: expected a JSON array of products")
    products: list[NewProduct] = []
    problems: list[str] = []
    seen_models: dict[str, int] = {}
    for position, item in enumerate(document):
        try:
            product = NewProduct.model_validate(item)
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(part) for part in error["loc"]) or "item"
                problems.append(f"item {position}: {field}: {error['msg']}")
            continue
        key = model_key(product.model)
        if key in seen_models:
            problems.append(f"item {position}: model {product.model!r} repeats item {seen_models[key]}")
        seen_models[key] = position
        products.append(product)
    if problems:
        raise SystemExit(f"error: {path}: nothing imported:\n  " + "\n  ".join(problems))
    return products


def import_products(store: ProductStore, company_id: str, products: Sequence[NewProduct]) -> list[str]:
    now = datetime.now(UTC)
    ids = []
    for product in products:
        product_id = new_object_id()
        store.create(product.to_product(product_id, company_id, now))
        ids.append(product_id)
    return ids


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="products-api", description=__doc__)
    groups = parser.add_subparsers(dest="group", required=True)

    credentials = groups.add_parser("credentials", help="mint and revoke API keys and OAuth tokens")
    credential_commands = credentials.add_subparsers(dest="command", required=True)
    create = credential_commands.add_parser("create", help="mint a credential and print its token once")
    create.add_argument("--company", required=True, help="company id the credential acts for")
    create.add_argument("--kind", choices=["api-key", "oauth"], default="api-key")
    create.add_argument(
        "--scope", action="append", dest="scopes", help="a scope to grant (repeatable; default products:write)"
    )
    create.add_argument("--expires-in", type=int, metavar="SECONDS", help="lifetime in seconds (default: none)")
    revoke = credential_commands.add_parser("revoke", help="revoke a credential by its token")
    revoke.add_argument("token")

    products = groups.add_parser("products", help="import products")
    product_commands = products.add_subparsers(dest="command", required=True)
    importer = product_commands.add_parser("import", help="import products from a JSON array and print their ids")
    importer.add_argument("file", type=Path)
    importer.add_argument("--company", required=True)
    return parser


def run(arguments: argparse.Namespace, settings: Settings, client: DynamoDBClient) -> int:
    if arguments.group == "credentials":
        store = CredentialStore(client, settings.credentials_table_name)
        if arguments.command == "create":
            if arguments.expires_in is not None and arguments.expires_in <= 0:
                raise SystemExit("error: --expires-in must be a positive number of seconds")
            token, credential = store.create(
                arguments.company,
                arguments.kind,
                arguments.scopes or ["products:write"],
                arguments.expires_in,
                datetime.now(UTC),
            )
            print(token)
            print(
                f"created {credential.kind} {credential.credentialId} for company {credential.companyId} "
                f"with scopes {' '.join(credential.scopes)}; the token is shown only once",
                file=sys.stderr,
            )
            return 0
        if store.revoke(arguments.token, datetime.now(UTC)):
            print("revoked", file=sys.stderr)
            return 0
        print("error: no such credential", file=sys.stderr)
        return 1
    products = read_products_file(arguments.file)
    try:
        ids = import_products(ProductStore(client, settings.products_table_name), arguments.company, products)
    except DuplicateModel as exc:
        raise SystemExit(f"error: model {exc} already exists for company {arguments.company}") from exc
    for product_id in ids:
        print(product_id)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return run(arguments, settings, make_client(settings))
    except DomainError as exc:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB", "AWS")
        print(f"error: {type(exc).__name__}: {exc} (DynamoDB at {endpoint})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
