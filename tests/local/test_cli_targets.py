"""`products-api` as the README uses it: it finds `make serve`'s database or a stack's tables by itself, refuses bad
input with one line (never a traceback), lists and revokes credentials without a token on the command line, and
imports all or nothing, or, for files larger than a transaction, converges when run again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.stub import Stubber
from local_runner import running
from products_api.auth.credentials import KNOWN_SCOPES, CredentialStore
from products_api_local import cli
from products_api_local.cli import main
from products_api_local.dynamodb_local import ENDPOINT_FILE, free_port
from support import Api, run_in_project

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

ONE_PRODUCT = [{"name": "Charger", "model": "CH-1", "sourceLocale": "en"}]


def _cli(*arguments: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The console script's code in a child process: its exit status and output, as a shell would see them."""
    return run_in_project([sys.executable, "-m", "products_api_local.cli", *arguments], stdin=stdin)


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith(("error:", "usage:")), result.stderr
    return result.stderr


# --- make serve: found by itself -------------------------------------------------------------------------------------


@pytest.mark.dynamodb_local
def test_the_readme_steps_against_make_serve(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with running("--data-dir", str(data_dir)) as (_, banner):
        published = json.loads((data_dir / ENDPOINT_FILE).read_text())
        assert published["endpoint_url"] == f"http://127.0.0.1:{banner.dynamodb_port}"
        local = ("--data-dir", str(data_dir))
        created = _cli(*local, "credentials", "create", "--company", "ACME", "--scope", "products:read")
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip()
        assert token.startswith("tp_") and "shown only once" in created.stderr

        listed = _cli(*local, "credentials", "list", "--company", "ACME", "--json")
        assert listed.returncode == 0, listed.stderr
        (row,) = [json.loads(line) for line in listed.stdout.splitlines()]
        assert row["companyId"] == "ACME" and row["scopes"] == ["products:read"] and row["revokedAt"] is None
        assert token not in listed.stdout and "tokenHash" not in listed.stdout

        products = tmp_path / "products.json"
        products.write_text(json.dumps(ONE_PRODUCT))
        imported = _cli(*local, "products", "import", str(products), "--company", "ACME")
        assert imported.returncode == 0, imported.stderr
        assert len(imported.stdout.split()) == 1

        revoked = _cli(*local, "credentials", "revoke", row["credentialId"])
        assert revoked.returncode == 0, revoked.stderr
        listed = _cli(*local, "credentials", "list", "--company", "ACME", "--json")
        assert json.loads(listed.stdout)["revokedAt"] is not None
    # the runner takes its endpoint file away when it stops
    assert not (data_dir / ENDPOINT_FILE).exists()
    gone = _one_error_line(_cli("--data-dir", str(data_dir), "credentials", "list"))
    assert "make serve" in gone and "not running" in gone


def test_without_make_serve_it_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("PRODUCTS_TABLE_NAME", "CREDENTIALS_TABLE_NAME"):
        monkeypatch.delenv(variable, raising=False)
    error = _one_error_line(_cli("--data-dir", str(tmp_path), "credentials", "create", "--company", "ACME"))
    assert "`make serve` is not running" in error and "--stack" in error


def test_a_stale_endpoint_file_gets_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("PRODUCTS_TABLE_NAME", "CREDENTIALS_TABLE_NAME"):
        monkeypatch.delenv(variable, raising=False)
    # what a runner killed with SIGKILL leaves behind: an endpoint nobody listens on
    endpoint = {"endpoint_url": f"http://127.0.0.1:{free_port()}", "region": "eu-west-1"}
    (tmp_path / ENDPOINT_FILE).write_text(json.dumps(endpoint))
    error = _one_error_line(_cli("--data-dir", str(tmp_path), "credentials", "list"))
    assert endpoint["endpoint_url"] in error and "does not answer" in error


def test_an_unreadable_endpoint_file_gets_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("PRODUCTS_TABLE_NAME", "CREDENTIALS_TABLE_NAME"):
        monkeypatch.delenv(variable, raising=False)
    (tmp_path / ENDPOINT_FILE).write_text("{not json")
    error = _one_error_line(_cli("--data-dir", str(tmp_path), "credentials", "list"))
    assert "restart `make serve`" in error


# --- a deployed stack: the outputs name the tables -------------------------------------------------------------------


class _StackSession:
    """What the CLI asks of boto3.Session: CloudFormation answered by a stub, DynamoDB by the test's backend."""

    def __init__(self, outputs: list[dict[str, str]] | None, dynamodb: DynamoDBClient, error: str | None = None):
        import boto3

        self.region_name = "eu-west-1"
        self.cloudformation = boto3.Session(region_name="eu-west-1").client("cloudformation")
        self.stubber = Stubber(self.cloudformation)
        if error is not None:
            self.stubber.add_client_error("describe_stacks", "ValidationError", error, 400)
        else:
            stack = {
                "StackName": "products-api-prod",
                "CreationTime": "2026-01-01T00:00:00Z",
                "StackStatus": "CREATE_COMPLETE",
                "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in (outputs or [])],
            }
            self.stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "products-api-prod"})
        self.stubber.activate()
        self.dynamodb = dynamodb

    def client(self, service: str, **_: Any) -> Any:
        return self.cloudformation if service == "cloudformation" else self.dynamodb


def _outputs(table_names: dict[str, str]) -> list[tuple[str, str]]:
    return [
        ("ApiUrl", "https://abc.execute-api.eu-west-1.amazonaws.com"),
        ("ProductsTableName", table_names["ProductsTable"]),
        ("CredentialsTableName", table_names["CredentialsTable"]),
        ("IdempotencyTableName", table_names["IdempotencyTable"]),
    ]


def test_stack_outputs_name_the_tables(
    dynamodb_client: DynamoDBClient,
    table_names: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    session = _StackSession(_outputs(table_names), dynamodb_client)  # type: ignore[arg-type]
    monkeypatch.setattr("products_api_local.cli.targets.boto3.Session", lambda **_: session)
    arguments = ["--stack", "products-api-prod", "--region", "eu-west-1"]
    assert main([*arguments, "credentials", "create", "--company", "ACME"]) == 0
    token = capsys.readouterr().out.strip()
    session.stubber.assert_no_pending_responses()
    (stored,) = CredentialStore(dynamodb_client, table_names["CredentialsTable"]).list_all()
    assert stored.company_id == "ACME"
    assert token.startswith("tp_")


def test_the_template_outputs_what_the_cli_reads(cfn_template: dict[str, Any]) -> None:
    outputs = cfn_template["Outputs"]
    for logical_id in ("ProductsTable", "CredentialsTable", "IdempotencyTable", "HistoryTable"):
        assert outputs[f"{logical_id}Name"]["Value"] == {"Ref": logical_id}
    assert set(cli.STACK_OUTPUTS.values()) <= set(outputs)


@pytest.mark.parametrize(
    ("outputs", "error", "expected"),
    [
        (None, "Stack with id products-api-prod does not exist", "does not exist"),
        ([("ApiUrl", "https://x")], None, "no output ProductsTableName, CredentialsTableName"),
    ],
)
def test_a_stack_that_cannot_serve_is_refused(
    dynamodb_client: DynamoDBClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    outputs: list[tuple[str, str]] | None,
    error: str | None,
    expected: str,
) -> None:
    session = _StackSession(outputs, dynamodb_client, error)  # type: ignore[arg-type]
    monkeypatch.setattr("products_api_local.cli.targets.boto3.Session", lambda **_: session)
    assert main(["--stack", "products-api-prod", "credentials", "list"]) == 1
    message = capsys.readouterr().err
    assert message.startswith("error: ") and expected in message


# --- bad input: refused before anything is written ------------------------------------------------------------------


def _usage_error(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    """argparse's refusal: status 2 and one `error:` line, before any database is looked for."""
    with pytest.raises(SystemExit) as failure:
        main(list(arguments))
    assert failure.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("company", ["", " ", " ACME", "AC#ME", "A\tB", "x" * 129])
def test_a_bad_company_is_refused(capsys: pytest.CaptureFixture[str], company: str) -> None:
    assert "invalid company" in _usage_error(capsys, "credentials", "create", "--company", company)


def test_an_unknown_scope_is_refused_with_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    error = _usage_error(capsys, "credentials", "create", "--company", "ACME", "--scope", "products:admin")
    assert "products:admin" in error
    for scope in KNOWN_SCOPES:
        assert scope in error


@pytest.mark.parametrize("seconds", ["0", "-5", "soon"])
def test_a_bad_lifetime_is_refused(capsys: pytest.CaptureFixture[str], seconds: str) -> None:
    error = _usage_error(capsys, "credentials", "create", "--company", "ACME", "--expires-in", seconds)
    assert "positive whole number" in error


def test_revoke_takes_no_token_argument_but_an_id_or_a_token_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert "--token-file" in _usage_error(capsys, "credentials", "revoke")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("[{", "products.json: "),
        ('{"name": "x"}', "expected a JSON array of products"),
        ("[]", "nothing to import"),
        ('[{"name": "Charger", "model": "CH-1"}]', "item 0: sourceLocale"),
    ],
)
def test_a_bad_products_file_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    path = tmp_path / "products.json"
    if content is not None:
        path.write_text(content)
    # checked before any database is looked for: this fails the same with or without make serve
    assert main(["products", "import", str(path), "--company", "ACME"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and expected in error


def test_a_folder_is_not_a_products_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["products", "import", str(tmp_path), "--company", "ACME"]) == 1
    assert "is a folder" in capsys.readouterr().err


# --- credentials ----------------------------------------------------------------------------------------------------


def test_list_shows_ids_and_dates_never_tokens_or_hashes(
    api: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["credentials", "create", "--company", "ACME", "--expires-in", "60"]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["credentials", "create", "--company", "OTHER", "--scope", "products:read"]) == 0
    second = capsys.readouterr().out.strip()
    assert main(["credentials", "list"]) == 0
    table = capsys.readouterr().out
    header, *rows = table.splitlines()
    assert header.split() == ["credentialId", "companyId", "kind", "scopes", "createdAt", "expiresAt", "revokedAt"]
    stored = api.credentials.list_all()
    assert len(rows) == len(stored) >= 2 and "OTHER" in table
    assert all(credential.credential_id in table for credential in stored)
    for secret in (first, second, *(credential.token_hash for credential in stored)):
        assert secret not in table
    # by id; then from a token file
    acme = next(credential for credential in stored if credential.company_id == "ACME" and credential.expires_at)
    assert main(["credentials", "revoke", acme.credential_id]) == 0
    assert main(["credentials", "revoke", acme.credential_id]) == 0  # again: still revoked, same answer
    token_file = tmp_path / "token"
    token_file.write_text(second + "\n")
    assert main(["credentials", "revoke", "--token-file", str(token_file)]) == 0
    assert main(["credentials", "revoke", "cred_0000000000000000"]) == 1
    assert "no credential cred_0000000000000000" in capsys.readouterr().err
    revoked = {c.credential_id for c in api.credentials.list_all() if c.revoked_at is not None}
    other = next(credential for credential in stored if credential.company_id == "OTHER")
    assert revoked == {acme.credential_id, other.credential_id}


# --- import: all or nothing, else converging -------------------------------------------------------------------------


def _products(count: int) -> list[dict[str, Any]]:
    return [{"name": f"Product {n}", "model": f"M-{n:04d}", "sourceLocale": "en"} for n in range(count)]


def test_a_rerun_of_an_import_writes_nothing_and_prints_the_same_ids(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "products.json"
    path.write_text(json.dumps(_products(3)))
    assert main(["products", "import", str(path), "--company", "ACME"]) == 0
    first = capsys.readouterr().out.split()
    items = api.all_items()
    assert main(["products", "import", str(path), "--company", "ACME"]) == 0
    output = capsys.readouterr()
    assert sorted(output.out.split()) == sorted(first)
    assert "3 were imported by an earlier run" in output.err
    assert api.all_items() == items


def test_a_file_larger_than_a_transaction_converges_when_run_again(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    products = _products(120)  # three transactions of 50, 50 and 20 products
    blocker = api.add_product(model=products[110]["model"])  # taken in the third
    path = tmp_path / "products.json"
    path.write_text(json.dumps(products))

    assert main(["products", "import", str(path), "--company", "ACME"]) == 1
    output = capsys.readouterr()
    written = output.out.split()
    assert len(written) == 100  # every id written is printed
    assert blocker.id in output.err and "100 product(s) of earlier batches were written" in output.err
    assert all(api.stored_item(product_id) is not None for product_id in written)

    # the operator frees the model and runs the same file again: the rest is written, nothing twice
    products[110]["model"] = "M-FREE"
    path.write_text(json.dumps(products))
    assert main(["products", "import", str(path), "--company", "ACME"]) == 0
    output = capsys.readouterr()
    ids = output.out.split()
    assert len(ids) == 120 == len(set(ids))
    assert set(written) <= set(ids)
    assert "imported 20 product(s)" in output.err
    locks = api.model_locks()
    assert len(locks) == 121  # the 120 imported and the blocker
    assert all(api.stored_item(product_id) is not None for product_id in ids)
