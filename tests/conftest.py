"""Shared fixtures: a DynamoDB for each test, on moto and on DynamoDB Local, holding the tables of template.yaml.

A test that requests `dynamodb_client` (or `table_names`, `table_env`) runs once per backend: `[moto]` and
`[ddb-local]`. The DynamoDB Local runs carry the `dynamodb_local` mark, so `-m "not dynamodb_local"` runs without Java.
Every test gets tables of its own under fresh names, which keeps tests independent on the shared DynamoDB Local server.

On those tables, the functions' real handlers: `api` (UpdateProductFunction), `history_api` (the history route) and
`changes` (ProductChangesFunction fed from the products table's real stream), and `handler_log`.

The suites: `tests/unit` needs no DynamoDB Local, `tests/contract` runs on both backends, `tests/local` checks the
local runner, the CLI, the harness and the `sam build` artefacts.
"""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

# First of the third-party section by name, on purpose: it must run before anything imports products_api.
import aws_isolation
import boto3
import pytest
from botocore.config import Config
from changes_support import Changes, changes_handler_module
from moto import mock_aws
from products_api.core.dynamodb import make_client
from products_api.core.settings import ChangesSettings, HistorySettings, load_settings, read_settings
from products_api.history.recorder import EVENT_SOURCE, EventPublisher, ProductChangeRecorder, make_events_client
from products_api.history.runtime import HistoryRuntime
from products_api.history.store import HistoryStore
from products_api.limits.meter import WriteMeter
from products_api.limits.store import LimitsStore
from products_api.products.runtime import Runtime
from products_api_local.dynamodb_local import DynamoDBLocal, DynamoDBLocalError
from products_api_local.streams.reader import StreamReader, stream_arn
from products_api_local.template.document import load_template
from products_api_local.template.tables import create_tables, table_definitions
from support import EVENT_SCOPES, EVENT_TOKEN, Api, HistoryApi, handler_module, history_handler_module

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

# The image routes' fixtures (tests/images_fixtures.py).
pytest_plugins = ("images_fixtures",)

REGION = aws_isolation.REGION
MOTO = "moto"
DYNAMODB_LOCAL = "dynamodb_local"
# The variables the functions read their table names from (template.yaml: the functions' Environment).
TABLE_ENV_VARS = {
    "ProductsTable": "PRODUCTS_TABLE_NAME",
    "IdempotencyTable": "IDEMPOTENCY_TABLE_NAME",
    "CredentialsTable": "CREDENTIALS_TABLE_NAME",
    # the history route's and ProductChangesFunction's
    "HistoryTable": "HISTORY_TABLE_NAME",
    # the image functions'
    "ImageUploadsTable": "IMAGE_UPLOADS_TABLE_NAME",
    # plans, rate windows and monthly counts: the writing functions', the usage route's and the meter's
    "LimitsTable": "LIMITS_TABLE_NAME",
}
ENDPOINT_ENV_VAR = aws_isolation.ENDPOINT_ENV_VAR


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


# --- the functions' handlers on the current backend ------------------------------------------------------------


@pytest.fixture
def api(
    dynamodb_client: DynamoDBClient,
    table_env: dict[str, str],
    boto3_session: boto3.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> Api:
    """The handler on a runtime injected with a client made as a container makes it (timeouts, retry mode),
    pointed at this test's backend by the environment (AWS_ENDPOINT_URL_DYNAMODB, or moto's interception).
    """
    settings = load_settings()
    client = make_client(settings, boto3_session)
    runtime = Runtime.build(settings, client)
    monkeypatch.setattr(handler_module(), "get_runtime", lambda: runtime)
    harness = Api(client, settings, runtime)
    harness.add_credential(EVENT_TOKEN, scopes=EVENT_SCOPES)
    return harness


@pytest.fixture
def handler_log() -> Iterator[io.StringIO]:
    """Everything the handler's Powertools Logger writes, at DEBUG. Its stream handler was made with the
    sys.stdout of the moment the module was first imported, which capsys does not see, so point it here.
    """
    handler_module()  # the function imports the logger first, as on Lambda
    from products_api.api.observability import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous_stream = handler.setStream(buffer)
    previous_level = logger.log_level
    logger.setLevel("DEBUG")
    try:
        yield buffer
    finally:
        logger.setLevel(previous_level)
        handler.setStream(previous_stream)


@pytest.fixture
def history_api(api: Api, monkeypatch: pytest.MonkeyPatch) -> HistoryApi:
    """The history handler on its own settings (read as its container reads them) and on `api`'s client, so data
    seeded through `api` is what it reads and DynamoDB calls can be counted on one client.
    """
    runtime = HistoryRuntime.build(read_settings(HistorySettings), api.client)
    monkeypatch.setattr(history_handler_module(), "get_history_runtime", lambda: runtime)
    return HistoryApi(api, runtime)


@pytest.fixture
def moto_services(backend: str) -> Iterator[None]:
    """EventBridge, SQS and S3 are moto on both backends: moto lets DynamoDB Local's requests through untouched."""
    if backend == "moto":
        yield  # the whole test already runs inside mock_aws()
    else:
        with mock_aws():
            yield


@pytest.fixture
def changes(
    dynamodb_client: DynamoDBClient,
    table_env: dict[str, str],
    table_names: dict[str, str],
    dynamodb_endpoint_url: str | None,
    moto_services: None,
    boto3_session: boto3.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> Changes:
    bus = f"t-{uuid.uuid4().hex[:8]}-products"
    events = boto3_session.client("events", region_name=REGION)
    sqs = boto3_session.client("sqs", region_name=REGION)
    events.create_event_bus(Name=bus)
    queue_url = sqs.create_queue(QueueName=f"{bus}-published")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="everything", EventBusName=bus, EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
    events.put_targets(Rule="everything", EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    monkeypatch.setenv("EVENT_BUS_NAME", bus)

    # clients made as the container makes them (timeouts, retry mode), on this test's backend
    settings = read_settings(ChangesSettings)
    function_events = make_events_client(settings, boto3_session)
    function_dynamodb = make_client(settings, boto3_session)
    recorder = ProductChangeRecorder(
        HistoryStore(function_dynamodb, settings.history_table_name),
        EventPublisher(function_events, settings.event_bus_name),
        WriteMeter(LimitsStore(function_dynamodb, settings.limits_table_name), time.time),
    )
    handler = changes_handler_module()
    monkeypatch.setattr(handler, "get_recorder", lambda: recorder)

    # botocore's account-based endpoints (<account>.streams-ddb...) are not among moto's URLs
    streams = boto3_session.client(
        "dynamodbstreams",
        region_name=REGION,
        endpoint_url=dynamodb_endpoint_url,
        config=Config(account_id_endpoint_mode="disabled"),
    )
    products_table = table_names["ProductsTable"]
    arn = stream_arn(dynamodb_client.describe_table(TableName=products_table)["Table"], products_table)
    reader = StreamReader(streams, arn, REGION)
    return Changes(dynamodb_client, reader, table_names["HistoryTable"], function_events, sqs, queue_url)
