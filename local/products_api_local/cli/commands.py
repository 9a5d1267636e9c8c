"""The commands and their parser: inputs checked as arguments, credentials minted, listed and revoked."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from botocore.exceptions import ClientError, NoCredentialsError
from products_api.auth.credentials import KNOWN_SCOPES, Credential, CredentialStore
from products_api.errors import DomainError, StoreUnavailable
from products_api.products.models import NewProduct
from products_api.products.store import ProductStore

from products_api_local.cli.limits import add_limits_parser, limits_command
from products_api_local.cli.products_import import read_products_file, write_products
from products_api_local.cli.targets import LOCAL_DATA_DIR, CliError, Target, resolve_target

# A company id is a tenant key (pk COMPANY#<id>): printable, no separator, no surrounding space.
_COMPANY = re.compile(r"[^\s#\x00-\x1f\x7f](?:[^#\x00-\x1f\x7f]{0,126}[^\s#\x00-\x1f\x7f])?")


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


# --- commands -------------------------------------------------------------------------------------------------------


def _timestamp(epoch: int | None) -> str:
    return "-" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _listing(credential: Credential) -> dict[str, Any]:
    """What `credentials list` shows: never the token (unknown here) nor its hash (the table's key)."""
    return {
        "credentialId": credential.credential_id,
        "companyId": credential.company_id,
        "kind": credential.kind,
        "scopes": credential.scopes,
        "createdAt": credential.created_at,
        "expiresAt": _timestamp(credential.expires_at) if credential.expires_at is not None else None,
        "revokedAt": credential.revoked_at,
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
                f"created {credential.kind} {credential.credential_id} for company {credential.company_id} "
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
        print(f"revoked {revoked.credential_id} of company {revoked.company_id}", file=sys.stderr)
        return 0

    if arguments.group == "limits":
        return limits_command(arguments, target)

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

    add_limits_parser(groups, company_id)

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
