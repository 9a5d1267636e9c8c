"""A whole run: tables seeded on DynamoDB Local, the clients, the checker, the figures
(`python -m products_api_local.stress`)."""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from products_api.auth.credentials import Credential, token_hash
from products_api.core.dynamodb import from_attribute_values, to_attribute_values
from products_api.products.models import Product
from products_api.products.store import ProductStore

from products_api_local.streams.reader import StreamReader, stream_arn
from products_api_local.stress.checker import Report, check
from products_api_local.stress.clients import Plan, run_clients
from products_api_local.stress.constants import COMPANY, REGION, TABLE_ENV_VARS, TOKEN, WRITE_RATE_PER_MINUTE
from products_api_local.stress.transports import TRANSPORTS
from products_api_local.template.document import load_template
from products_api_local.template.tables import create_tables, table_definitions

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


# --- a whole run ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """Tables of one run on one DynamoDB, seeded: the credential, the products and their locks."""

    endpoint_url: str
    table_names: dict[str, str]
    product_ids: tuple[str, ...]
    models: tuple[str, ...]

    @property
    def environment(self) -> dict[str, str]:
        variables = {TABLE_ENV_VARS[logical_id]: name for logical_id, name in self.table_names.items()}
        variables["AWS_ENDPOINT_URL_DYNAMODB"] = self.endpoint_url
        variables["WRITE_RATE_PER_MINUTE"] = WRITE_RATE_PER_MINUTE
        return variables

    def client(self) -> DynamoDBClient:
        return boto3.client("dynamodb", region_name=REGION, endpoint_url=self.endpoint_url)


def prepare(endpoint_url: str, products: int = 4, models: int = 6, table_names: dict[str, str] | None = None) -> Setup:
    """Create the template's tables under fresh names (unless given), a credential and `products` products holding
    the first models of a pool of `models`.
    """
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint_url)
    if table_names is None:
        prefix = f"stress-{uuid.uuid4().hex[:8]}"
        table_names = {logical_id: f"{prefix}-{logical_id}" for logical_id in table_definitions(load_template())}
        create_tables(client, table_names)
    names = {logical_id: table_names[logical_id] for logical_id in TABLE_ENV_VARS}
    now = datetime.now(UTC)
    credential = Credential(
        token_hash=token_hash(TOKEN),
        credential_id="cred_stress",
        company_id=COMPANY,
        kind="api-key",
        scopes=["products:write"],
        created_at=now.isoformat(),
    )
    client.put_item(
        TableName=names["CredentialsTable"], Item=to_attribute_values(credential.model_dump(exclude_none=True))
    )
    pool = tuple(f"M-{index}" for index in range(models))
    store = ProductStore(client, names["ProductsTable"])
    product_ids = []
    for index in range(products):
        product_id = f"{index + 1:024x}"
        store.create(
            Product(
                id=product_id,
                company_id=COMPANY,
                name=f"product {index}",
                model=pool[index],
                description=None,
                default_field_values={},
                image_urls=[],
                status="active",
                source_locale="en",
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
        product_ids.append(product_id)
    return Setup(endpoint_url, names, tuple(product_ids), pool)


def stream_records(setup: Setup) -> list[dict[str, Any]]:
    """Every record of the products table's stream so far: what ProductChangesFunction is handed."""
    client = setup.client()
    table = setup.table_names["ProductsTable"]
    streams = boto3.client(
        "dynamodbstreams",
        region_name=REGION,
        endpoint_url=setup.endpoint_url,
        config=Config(account_id_endpoint_mode="disabled"),
    )
    reader = StreamReader(streams, stream_arn(client.describe_table(TableName=table)["Table"], table), REGION)
    return reader.records()


def table_items(setup: Setup) -> list[dict[str, Any]]:
    client = setup.client()
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": setup.table_names["ProductsTable"], "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items.extend(from_attribute_values(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run(setup: Setup, processes: int, duration_seconds: float, seed: int, transport: str = "handler") -> Report:
    plan = Plan(processes, duration_seconds, setup.product_ids, setup.models, seed, transport)
    entries = run_clients(plan, setup.environment)
    return check(entries, stream_records(setup), table_items(setup))


def _checker_summary() -> str:
    """The package's first paragraph: what the checker does."""
    import products_api_local.stress as package  # the package imports this module: read it when main runs

    return (package.__doc__ or "").split("\n\n")[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m products_api_local.stress", description=_checker_summary())
    parser.add_argument("--duration", type=float, default=60.0, help="seconds the clients send requests (60)")
    parser.add_argument("--processes", type=int, default=4, help="client processes, each like a container (4)")
    parser.add_argument("--products", type=int, default=4, help="products the clients share (4)")
    parser.add_argument("--models", type=int, default=6, help="models in the pool renames draw from (6)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a fresh one, printed)")
    parser.add_argument("--transport", choices=sorted(TRANSPORTS), default="handler")
    parser.add_argument("--endpoint", help="a running DynamoDB Local's URL (default: start one)")
    parser.add_argument(
        "--http", action="store_true", help="through the local runner over HTTP (see stress/over_http.py)"
    )
    parser.add_argument("--base-url", help="with --http and --endpoint: a running runner's URL (default: start one)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)  # noqa: S311
    print(
        f">> stress: {args.processes} processes for {args.duration:g} s on {args.products} products, "
        f"{args.models} models, seed {seed}",
        flush=True,
    )
    # nothing reaches AWS: DynamoDB Local takes any credentials
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ["AWS_DEFAULT_REGION"] = os.environ["AWS_REGION"] = REGION
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "products-api")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ProductsApi")
    # the handlers' request log lines would bury the report
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    if args.http or args.transport == "http":
        from products_api_local.stress.over_http import main_http

        return main_http(args, seed)
    with contextlib.ExitStack() as stack:
        endpoint = args.endpoint
        if endpoint is None:
            from products_api_local.dynamodb_local import DynamoDBLocal

            endpoint = stack.enter_context(DynamoDBLocal()).endpoint_url
        setup = prepare(endpoint, args.products, args.models)
        started = time.monotonic()
        report = run(setup, args.processes, args.duration, seed, args.transport)
        print(f">> {time.monotonic() - started:.1f} s in all")
    print(report.summary())
    return 1 if report.violations else 0
