"""`products-api`: mint, list and revoke credentials, and import products.

Which DynamoDB it talks to, first match wins:
  --stack NAME        a deployed stack: the table names come from its outputs, AWS access from your AWS config
                      (profile, region or --region), as for the AWS CLI;
  PRODUCTS_TABLE_NAME and CREDENTIALS_TABLE_NAME in the environment (with AWS_ENDPOINT_URL_DYNAMODB for a
                      DynamoDB of your own);
  the running `make serve`: its DynamoDB Local, found through .dynamodb/endpoint.json (nothing to set).

A token is never an argument (shell history and `ps` would keep it): `credentials revoke` takes the credential id
that `credentials list` shows, or reads a token from a file or stdin (--token-file -).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
from products_api.auth.credentials import KNOWN_SCOPES, Credential, CredentialStore
from products_api.core import jsonio
from products_api.core.dynamodb import client_config
from products_api.errors import DomainError, DuplicateModel, InvalidJson, StoreUnavailable
from products_api.limits.store import LimitsStore, month_of
from products_api.products.models import NewProduct, Product, model_key
from products_api.products.store import MAX_PRODUCTS_PER_TRANSACTION, ProductStore
from pydantic import ValidationError

from products_api_local.dynamodb_local import ENDPOINT_FILE
from products_api_local.template.document import TemplateError, project_root

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

# The stack outputs naming the tables the CLI uses (template.yaml, Outputs).
STACK_OUTPUTS = {"products": "ProductsTableName", "credentials": "CredentialsTableName"}
# The local runner names each table after its logical id (template.yaml has no TableName).
LOCAL_TABLES = {"products": "ProductsTable", "credentials": "CredentialsTable", "limits": "LimitsTable"}
LIMITS_OUTPUT = "LimitsTableName"
LOCAL_DATA_DIR = ".dynamodb"
# A company id is a tenant key (pk COMPANY#<id>): printable, no separator, no surrounding space.
_COMPANY = re.compile(r"[^\s#\x00-\x1f\x7f](?:[^#\x00-\x1f\x7f]{0,126}[^\s#\x00-\x1f\x7f])?")
_TRANSACTION_CONFLICT_RETRIES = 5


class CliError(Exception):
    """A user mistake or an unreachable database: one line on stderr, exit status 1."""


@dataclass(frozen=True)
class Target:
    """The DynamoDB the commands act on, and where it is (for messages)."""

    client: DynamoDBClient
    products_table: str
    credentials_table: str
    where: str
    # the DynamoDB Local of `make serve`
    local: bool = False
    # company plans and counts (None: a stack deployed before the limits table existed)
    limits_table: str | None = None


# --- finding the database -------------------------------------------------------------------------------------------


def _client(session: boto3.Session, endpoint_url: str | None = None) -> DynamoDBClient:
    # A CLI may wait a little longer than a function, but not botocore's 60 s per read.
    return session.client("dynamodb", endpoint_url=endpoint_url, config=client_config(2.0, 10.0, 3))


def stack_target(stack: str, region: str | None, session: boto3.Session | None = None) -> Target:
    """The tables of a deployed stack, from its outputs."""
    session = session or boto3.Session(region_name=region)
    try:
        cloudformation = session.client("cloudformation", config=client_config(2.0, 10.0, 3))
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except NoRegionError:
        raise CliError("no AWS region: pass --region or set AWS_REGION (or a region in your AWS profile)") from None
    except NoCredentialsError:
        raise CliError("no AWS credentials: configure a profile (aws configure) or set AWS_PROFILE") from None
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        raise CliError(f"stack {stack}: {message}") from None
    except BotoCoreError as exc:
        raise CliError(f"cannot reach CloudFormation: {exc}") from None
    outputs = {output["OutputKey"]: output.get("OutputValue", "") for output in stacks[0].get("Outputs", [])}
    missing = [name for name in STACK_OUTPUTS.values() if not outputs.get(name)]
    if missing:
        raise CliError(
            f"stack {stack} has no output {', '.join(missing)}: is it a products-api stack, fully deployed "
            "from this template?"
        )
    return Target(
        client=_client(session),
        products_table=outputs[STACK_OUTPUTS["products"]],
        credentials_table=outputs[STACK_OUTPUTS["credentials"]],
        where=f"stack {stack} ({session.region_name})",
        limits_table=outputs.get(LIMITS_OUTPUT) or None,
    )


def environment_target() -> Target | None:
    """The tables the environment names, if it names any."""
    products = os.environ.get("PRODUCTS_TABLE_NAME")
    credentials = os.environ.get("CREDENTIALS_TABLE_NAME")
    if not products and not credentials:
        return None
    if not (products and credentials):
        missing = "PRODUCTS_TABLE_NAME" if not products else "CREDENTIALS_TABLE_NAME"
        raise CliError(f"{missing} is not set (the environment names one table of the two), or unset both")
    # boto3 honours AWS_ENDPOINT_URL_DYNAMODB itself
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    session = boto3.Session()
    if session.region_name is None:
        raise CliError("no AWS region: set AWS_REGION, or use --stack NAME --region REGION")
    return Target(
        _client(session),
        products,
        credentials,
        f"DynamoDB at {endpoint or 'AWS'} (environment)",
        limits_table=os.environ.get("LIMITS_TABLE_NAME") or None,
    )


def local_target(data_dir: Path | None = None) -> Target:
    """The DynamoDB Local of the running `make serve`, from the endpoint file it writes while it runs."""
    if data_dir is None:
        try:
            data_dir = project_root() / LOCAL_DATA_DIR
        except TemplateError:
            data_dir = Path.cwd() / LOCAL_DATA_DIR
    path = data_dir / ENDPOINT_FILE
    try:
        published = json.loads(path.read_text(encoding="utf-8"))
        endpoint_url, region = str(published["endpoint_url"]), str(published["region"])
    except FileNotFoundError:
        raise CliError(
            f"no local database: `make serve` is not running (no {path}). Start it, or use --stack NAME "
            "for a deployed stack"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CliError(f"{path} is unreadable ({exc}): restart `make serve`") from None
    # DynamoDB Local accepts any credentials; these keep whatever the shell holds (a real account) out of it.
    session = boto3.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=region)  # noqa: S106
    return Target(
        _client(session, endpoint_url),
        LOCAL_TABLES["products"],
        LOCAL_TABLES["credentials"],
        f"DynamoDB Local at {endpoint_url} (make serve)",
        local=True,
        limits_table=LOCAL_TABLES["limits"],
    )


def resolve_target(arguments: argparse.Namespace) -> Target:
    if arguments.stack:
        return stack_target(arguments.stack, arguments.region)
    return environment_target() or local_target(arguments.data_dir)


# --- inputs ---------------------------------------------------------------------------------------------------------


def company_id(value: str) -> str:
    """argparse type: a company id as the API stores it."""
    if not _COMPANY.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"invalid company {value!r}: 1 to 128 printable characters, no '#', no leading or trailing space"
        )
    return value


def positive_seconds(value: str) -> int:
    try:
        seconds = int(value)
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number of seconds")
    return seconds


def read_token(source: str) -> str:
    """A token from a file, or stdin for '-': its first line, surrounding space dropped."""
    try:
        text = sys.stdin.readline() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{source}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CliError(f"{source}: not UTF-8 text") from None
    token = (text.strip().splitlines() or [""])[0].strip()
    if not token:
        raise CliError(f"{'stdin' if source == '-' else source}: no token in it")
    return token


def read_products_file(path: Path) -> list[NewProduct]:
    """Every problem of the file at once, item by item, before anything is written."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a folder, not a JSON file") from None
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror or exc}") from None
    try:
        document = jsonio.parse_object(b'{"items":' + raw + b"}")["items"]
    except InvalidJson as exc:
        raise CliError(f"{path}: {exc}") from None
    if not isinstance(document, list):
        raise CliError(f"{path}: expected a JSON array of products")
    if not document:
        raise CliError(f"{path}: the array is empty, nothing to import")
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
        raise CliError(f"{path}: nothing imported:\n  " + "\n  ".join(problems))
    return products


# --- import ---------------------------------------------------------------------------------------------------------


def import_product_id(company: str, product: NewProduct) -> str:
    """The id an imported product gets: derived from its company and model, so a re-run of the same file finds what
    it wrote before (the model is unique in a company). 24 hex digits, the shape of every product id."""
    digest = hashlib.sha256(f"products-api import\0{company}\0{model_key(product.model)}".encode()).hexdigest()
    return digest[:24]


@dataclass
class ImportReport:
    written: list[str]
    existing: list[str]


class ModelsTaken(CliError):
    """Models of the file are held by other products of the company: that batch was not written."""

    def __init__(self, company: str, taken: dict[str, str], written_before: int) -> None:
        listed = ", ".join(f"{model!r} (product {holder})" for model, holder in taken.items())
        done = f"; {written_before} product(s) of earlier batches were written (ids above)" if written_before else ""
        super().__init__(f"models already taken in company {company}: {listed}; nothing of this batch written{done}")
        self.taken = taken


def import_products(store: ProductStore, company: str, products: Sequence[NewProduct]) -> list[str]:
    """The ids of the products, in their order, written now or by an earlier import of them.

    Raises DuplicateModel when a model is held by another product of the company.
    """
    try:
        write_products(store, company, products)
    except ModelsTaken as exc:
        raise DuplicateModel(next(iter(exc.taken))) from exc
    return [import_product_id(company, product) for product in products]


def write_products(store: ProductStore, company: str, products: Sequence[NewProduct], echo: Any = None) -> ImportReport:
    """Write the products, all or nothing when they fit one transaction (50 products); larger files go 50 at a time,
    each batch all or nothing, and a re-run of the same file skips what is written already. `echo` is called with
    each batch's ids as soon as they are written."""
    now = datetime.now(UTC)
    pending: list[Product] = [
        product.to_product(import_product_id(company, product), company, now) for product in products
    ]
    report = ImportReport(written=[], existing=[])
    for start in range(0, len(pending), MAX_PRODUCTS_PER_TRANSACTION):
        batch = pending[start : start + MAX_PRODUCTS_PER_TRANSACTION]
        for attempt in range(_TRANSACTION_CONFLICT_RETRIES):
            if not batch:
                break
            outcome = store.create_all(batch)
            if outcome.taken_models:
                raise ModelsTaken(company, outcome.taken_models, len(report.written))
            if outcome.conflict:
                # a concurrent write on the same items: DynamoDB cancelled ours, nothing was written
                time.sleep(0.05 * (attempt + 1))
                continue
            if outcome.existing:
                report.existing += outcome.existing
                batch = [product for product in batch if product.id not in set(outcome.existing)]
                continue
            report.written += outcome.written
            if echo is not None:
                echo(outcome.written)
            break
        else:
            raise CliError("concurrent writes kept cancelling the import: try again")
    return report


# --- commands -------------------------------------------------------------------------------------------------------


def _timestamp(epoch: int | None) -> str:
    return "-" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _listing(credential: Credential) -> dict[str, Any]:
    """What `credentials list` shows: never the token (unknown here) nor its hash (the table's key)."""
    return {
        "credentialId": credential.credentialId,
        "companyId": credential.companyId,
        "kind": credential.kind,
        "scopes": credential.scopes,
        "createdAt": credential.createdAt,
        "expiresAt": _timestamp(credential.expiresAt) if credential.expiresAt is not None else None,
        "revokedAt": credential.revokedAt,
    }


def _print_table(rows: list[dict[str, Any]]) -> None:
    columns = ["credentialId", "companyId", "kind", "scopes", "createdAt", "expiresAt", "revokedAt"]
    cells = [[" ".join(v) if isinstance(v := row[c], list) else (v or "-") for c in columns] for row in rows]
    widths = [max(len(column), *(len(str(line[i])) for line in cells)) for i, column in enumerate(columns)]
    for line in [columns, *cells]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def run(arguments: argparse.Namespace, target: Target) -> int:
    now = datetime.now(UTC)
    if arguments.group == "credentials":
        store = CredentialStore(target.client, target.credentials_table)
        if arguments.command == "create":
            token, credential = store.create(
                arguments.company, arguments.kind, arguments.scopes or ["products:write"], arguments.expires_in, now
            )
            print(token)
            print(
                f"created {credential.kind} {credential.credentialId} for company {credential.companyId} "
                f"with scopes {' '.join(credential.scopes)} in {target.where}; the token is shown only once",
                file=sys.stderr,
            )
            return 0
        if arguments.command == "list":
            rows = [_listing(credential) for credential in store.list_all(arguments.company)]
            if arguments.json:
                for row in rows:
                    print(json.dumps(row))
            elif rows:
                _print_table(rows)
            else:
                print("no credentials", file=sys.stderr)
            return 0
        if arguments.token_file is not None:
            if store.revoke(read_token(arguments.token_file), now):
                print("revoked the credential of that token", file=sys.stderr)
                return 0
            raise CliError("no credential has that token")
        revoked = store.revoke_by_id(arguments.credential_id, now)
        if revoked is None:
            raise CliError(f"no credential {arguments.credential_id} (see `products-api credentials list`)")
        print(f"revoked {revoked.credentialId} of company {revoked.companyId}", file=sys.stderr)
        return 0

    if arguments.group == "limits":
        return _limits(arguments, target)

    products: list[NewProduct] = arguments.products

    def echo(ids: list[str]) -> None:
        for product_id in ids:
            print(product_id, flush=True)

    report = write_products(ProductStore(target.client, target.products_table), arguments.company, products, echo)
    for product_id in report.existing:
        print(product_id)
    summary = f"imported {len(report.written)} product(s) into company {arguments.company} in {target.where}"
    if report.existing:
        summary += f"; {len(report.existing)} were imported by an earlier run and left as they are"
    print(summary, file=sys.stderr)
    return 0


def _limits(arguments: argparse.Namespace, target: Target) -> int:
    """`limits set` and `limits show`: a company's plan (its own rate, its quota) and this month's count."""
    if target.limits_table is None:
        raise CliError(f"{target.where} names no limits table (deploy the current template: output {LIMITS_OUTPUT})")
    store = LimitsStore(target.client, target.limits_table)
    if arguments.command == "set":
        if arguments.rate is None and arguments.quota is None and not arguments.default_rate and not arguments.no_quota:
            raise CliError("nothing to set: give --rate N or --default-rate, and/or --quota N or --no-quota")
        plan = store.set_plan(
            arguments.company, arguments.rate, arguments.quota, arguments.default_rate, arguments.no_quota
        )
    else:
        plan = store.plan(arguments.company, month_of(datetime.now(UTC)))
    print(
        json.dumps(
            {
                "companyId": arguments.company,
                "rate": plan.rate,
                "quota": plan.quota,
                "month": month_of(datetime.now(UTC)),
                "writes": plan.month_writes,
            }
        )
    )
    rate = "the default rate" if plan.rate is None else ("no rate limit" if plan.rate == 0 else f"{plan.rate}/minute")
    quota = "no quota" if plan.quota is None else f"a quota of {plan.quota} writes a month"
    print(f"company {arguments.company}: {rate}, {quota} ({target.where})", file=sys.stderr)
    return 0


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 0 <= number <= 1_000_000_000:
        raise argparse.ArgumentTypeError(f"{number} is not from 0 to 1000000000")
    return number


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="products-api", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", metavar="NAME", help="a deployed stack: its outputs name the tables")
    parser.add_argument("--region", help="the stack's AWS region (default: your AWS configuration)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help=f"the data folder of `make serve` if not ./{LOCAL_DATA_DIR} (make serve ARGS=--data-dir ...)",
    )
    groups = parser.add_subparsers(dest="group", required=True)

    credentials = groups.add_parser("credentials", help="mint, list and revoke API keys and OAuth tokens")
    commands = credentials.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="mint a credential and print its token once")
    create.add_argument("--company", required=True, type=company_id, help="company id the credential acts for")
    create.add_argument("--kind", choices=["api-key", "oauth"], default="api-key")
    create.add_argument(
        "--scope",
        action="append",
        dest="scopes",
        choices=KNOWN_SCOPES,
        help="a scope to grant (repeatable; default products:write)",
    )
    create.add_argument(
        "--expires-in", type=positive_seconds, metavar="SECONDS", help="lifetime in seconds (default: none)"
    )
    listing = commands.add_parser("list", help="list credentials: id, company, scopes, dates (never a token)")
    listing.add_argument("--company", type=company_id, help="only this company's")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    revoke = commands.add_parser(
        "revoke", help="revoke a credential by its id, or by its token read from a file or stdin"
    )
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("credential_id", nargs="?", metavar="CREDENTIAL_ID", help="as `credentials list` shows it")
    which.add_argument("--token-file", metavar="FILE", help="read the token from FILE ('-' for stdin)")

    limits = groups.add_parser("limits", help="a company's write rate and monthly quota")
    limit_commands = limits.add_subparsers(dest="command", required=True)
    setter = limit_commands.add_parser("set", help="set a company's own rate and/or quota; prints the plan")
    setter.add_argument("--company", required=True, type=company_id)
    rate = setter.add_mutually_exclusive_group()
    rate.add_argument("--rate", type=_count, help="writes per minute (0: unlimited); bites within the minute")
    rate.add_argument("--default-rate", action="store_true", help="back to the deployment's WriteRatePerMinute")
    quota = setter.add_mutually_exclusive_group()
    quota.add_argument("--quota", type=_count, help="writes per calendar month, UTC (0: none at all)")
    quota.add_argument("--no-quota", action="store_true", help="remove the company's quota")
    show = limit_commands.add_parser("show", help="a company's plan and this month's write count")
    show.add_argument("--company", required=True, type=company_id)

    products = groups.add_parser("products", help="import products")
    product_commands = products.add_subparsers(dest="command", required=True)
    importer = product_commands.add_parser("import", help="import products from a JSON array and print their ids")
    importer.add_argument("file", type=Path)
    importer.add_argument("--company", required=True, type=company_id)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    target: Target | None = None
    try:
        # the file is read and checked before any connection: a bad file never waits on a database
        if arguments.group == "products":
            arguments.products = read_products_file(arguments.file)
        target = resolve_target(arguments)
        return run(arguments, target)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except StoreUnavailable as exc:
        place = target.where if target is not None else "DynamoDB"
        hint = "is `make serve` still running?" if target is not None and target.local else "is it reachable?"
        print(f"error: {place} does not answer ({exc}): {hint}", file=sys.stderr)
        return 1
    except NoCredentialsError:
        print("error: no AWS credentials: configure a profile (aws configure) or set AWS_PROFILE", file=sys.stderr)
        return 1
    except ClientError as exc:
        error = exc.response.get("Error", {})
        print(f"error: DynamoDB refused: {error.get('Code')}: {error.get('Message')}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
