"""Shared fixtures: a DynamoDB for each test, on moto and on DynamoDB Local, holding the tables of template.yaml.

A test that requests `dynamodb_client` (or `table_names`, `table_env`) runs once per backend: `[moto]` and
`[ddb-local]`. The DynamoDB Local runs carry the `dynamodb_local` mark, so `-m "not dynamodb_local"` runs without Java.
Every test gets tables of its own under fresh names, which keeps tests independent on the shared DynamoDB Local server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws
from products_api_local.dynamodb_local import DynamoDBLocal, DynamoDBLocalError
from products_api_local.template.document import load_template
from products_api_local.template.tables import create_tables, table_definitions

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

# The `api` fixture (tests/api_fixtures.py): the handler wired to the backend of each test.
pytest_plugins = ("api_fixtures", "changes_fixtures")

REGION = "eu-west-1"
MOTO = "moto"
DYNAMODB_LOCAL = "dynamodb_local"
# The variables the functions read their table names from (template.yaml: the functions' Environment).
TABLE_ENV_VARS = {
    "ProductsTable": "PRODUCTS_TABLE_NAME",
    "IdempotencyTable": "IDEMPOTENCY_TABLE_NAME",
    "CredentialsTable": "CREDENTIALS_TABLE_NAME",
    # the history route's and ProductChangesFunction's
    "HistoryTable": "HISTORY_TABLE_NAME",
}
ENDPOINT_ENV_VAR = "AWS_ENDPOINT_URL_DYNAMODB"

# Nothing a test does may reach AWS, whatever the developer's shell holds: dummy credentials always win, and the
# profile, session token, endpoints and config files that could point boto3 elsewhere are dropped. The region is
# forced too: moto keeps tables per region, so a client in another region would not see the fixtures' tables.
for _variable in (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    ENDPOINT_ENV_VAR,
):
    os.environ.pop(_variable, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # As template.yaml sets them for the function (test_observability checks they agree); Powertools reads them
        # when the handler's modules are imported.
        "POWERTOOLS_SERVICE_NAME": "products-api",
        "POWERTOOLS_METRICS_NAMESPACE": "ProductsApi",
    }
)


@pytest.fixture(scope="session")
def cfn_template() -> dict[str, Any]:
    """template.yaml, parsed once per session."""
    return load_template()


@pytest.fixture(scope="session")
def boto3_session() -> boto3.Session:
    # Clients made from one session share its parsed service models: a fresh boto3.client() re-reads them (~30 ms).
    return boto3.Session(region_name=REGION)


@pytest.fixture(scope="session")
def dynamodb_local(
    tmp_path_factory: pytest.TempPathFactory, cfn_template: dict[str, Any], boto3_session: boto3.Session
) -> Iterator[DynamoDBLocal]:
    """One in-memory DynamoDB Local for the whole session, started on first use (never for moto-only runs)."""
    server = DynamoDBLocal(log_file=tmp_path_factory.mktemp("dynamodb-local") / "server.log")
    try:
        server.start()
    except DynamoDBLocalError as exc:
        pytest.fail(f"{exc}\n(to run without DynamoDB Local: -m 'not dynamodb_local')", pytrace=False)
    try:
        # The JVM's first table creation is slow (~0.3 s); pay it here rather than in the first test's timing.
        client = boto3_session.client("dynamodb", endpoint_url=server.endpoint_url, region_name=REGION)
        warm_up = {logical_id: f"warm-up-{logical_id}" for logical_id in table_definitions(cfn_template)}
        create_tables(client, warm_up, cfn_template)
        for name in warm_up.values():
            client.delete_table(TableName=name)
        yield server
    finally:
        server.stop()


@pytest.fixture(
    params=[
        pytest.param(MOTO, id="moto"),
        pytest.param(DYNAMODB_LOCAL, id="ddb-local", marks=pytest.mark.dynamodb_local),
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    """The DynamoDB the test runs against: "moto" or "dynamodb_local"."""
    name: str = request.param
    return name


@pytest.fixture
def dynamodb_endpoint_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """DynamoDB Local's URL on that backend, None on moto (which intercepts requests to AWS's own endpoints)."""
    if backend == DYNAMODB_LOCAL:
        server: DynamoDBLocal = request.getfixturevalue("dynamodb_local")
        return server.endpoint_url
    return None


@pytest.fixture
def dynamodb_client(
    backend: str, dynamodb_endpoint_url: str | None, boto3_session: boto3.Session
) -> Iterator[DynamoDBClient]:
    """A DynamoDB client on the current backend; for moto, the whole test runs inside `mock_aws()`."""
    if backend == MOTO:
        with mock_aws():
            yield boto3_session.client("dynamodb", region_name=REGION)
    else:
        yield boto3_session.client("dynamodb", region_name=REGION, endpoint_url=dynamodb_endpoint_url)


@pytest.fixture
def table_names(dynamodb_client: DynamoDBClient, cfn_template: dict[str, Any]) -> dict[str, str]:
    """Logical id -> physical name of every table of the template, created empty for this test.

    Tables are not deleted afterwards: moto forgets them when mock_aws() ends, and DynamoDB Local creates tables no
    slower with a thousand of them in place (measured), so dropping them would only add ~20 ms to every test.
    """
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    names = {logical_id: f"{prefix}-{logical_id}" for logical_id in table_definitions(cfn_template)}
    create_tables(dynamodb_client, names, cfn_template)
    return names


@pytest.fixture
def table_env(
    table_names: dict[str, str], dynamodb_endpoint_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The environment the application reads (table names, and the endpoint on DynamoDB Local); returns what it set."""
    missing = sorted(set(TABLE_ENV_VARS) - set(table_names))
    if missing:
        raise AssertionError(f"no table {', '.join(missing)} in template.yaml, yet conftest names a variable for it")
    variables = {TABLE_ENV_VARS[logical_id]: table_names[logical_id] for logical_id in TABLE_ENV_VARS}
    if dynamodb_endpoint_url is not None:
        variables[ENDPOINT_ENV_VAR] = dynamodb_endpoint_url
    else:
        # boto3 honours this variable, and moto only intercepts requests to AWS's endpoints.
        monkeypatch.delenv(ENDPOINT_ENV_VAR, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return variables
