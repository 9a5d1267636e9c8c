"""Which DynamoDB the commands act on: a deployed stack, the environment, or the DynamoDB Local of `make serve`."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
from products_api.core.dynamodb import client_config

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
