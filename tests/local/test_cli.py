"""The `products-api` console script: credentials and product import, against the configured DynamoDB."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from products_api.auth.credentials import token_hash
from products_api.products.models import NewProduct
from products_api_local.cli import import_product_id, main
from support import Api

PRODUCTS: list[dict[str, Any]] = [
    {
        "name": "Li-Ion 48V Battery Pack",
        "model": "LI-48V-20AH",
        "description": None,
        "defaultFieldValues": {"chemistry": "NMC", "capacityWh": 960.5},
        "imageUrls": ["https://cdn.example.com/hero.jpg"],
        "status": "active",
        "sourceLocale": "EN",
    },
    {"name": "Charger", "model": "CH-1", "sourceLocale": "de"},
]


def test_import_ids_are_24_hex_one_per_company_and_model() -> None:
    product = NewProduct.model_validate(PRODUCTS[1])
    same_model = NewProduct.model_validate({**PRODUCTS[1], "model": "ch-1", "name": "other name"})
    ids = {import_product_id(f"company-{n}", product) for n in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in ids)
    # the model, as the API compares it (case-insensitive), decides: a re-run finds what it wrote
    assert import_product_id("ACME", product) == import_product_id("ACME", same_model)


def test_create_prints_the_token_once_and_stores_its_hash(
    api: Api, capsys: pytest.CaptureFixture[str], product_file: Path
) -> None:
    assert main(["credentials", "create", "--company", "ACME", "--expires-in", "3600"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("tp_")
    credential = api.runtime.authenticator._store.find(token_hash(token))
    assert credential is not None
    assert credential.company_id == "ACME" and credential.scopes == ["products:write"]
    assert credential.expires_at is not None


def test_created_token_works_then_revoke_refuses_it(
    api: Api, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    product = api.add_product()
    assert main(["credentials", "create", "--company", "ACME", "--kind", "oauth", "--scope", "products:write"]) == 0
    token = capsys.readouterr().out.strip()
    assert api.patch(product.id, {"name": "via cli token"}, token=token).status == 200
    # never on the command line: the token comes from stdin
    monkeypatch.setattr("sys.stdin", io.StringIO(token + "\n"))
    assert main(["credentials", "revoke", "--token-file", "-"]) == 0
    api.runtime.authenticator._cache.clear()  # the warm-container cache is the documented revocation delay
    assert api.patch(product.id, {"name": "after revoke"}, token=token).status == 401
    monkeypatch.setattr("sys.stdin", io.StringIO("tp_unknown_00000000000000000000\n"))
    assert main(["credentials", "revoke", "--token-file", "-"]) == 1


@pytest.fixture
def product_file(tmp_path: Path) -> Path:
    path = tmp_path / "products.json"
    path.write_text(json.dumps(PRODUCTS))
    return path


def test_import_prints_ids_and_products_can_be_patched(
    api: Api, capsys: pytest.CaptureFixture[str], product_file: Path
) -> None:
    assert main(["products", "import", str(product_file), "--company", "ACME"]) == 0
    ids = capsys.readouterr().out.split()
    assert len(ids) == 2
    first = api.stored_item(ids[0])
    assert first is not None
    assert first["model"] == "LI-48V-20AH" and first["sourceLocale"] == "en" and first["version"] == 1
    assert str(first["defaultFieldValues"]["capacityWh"]) == "960.5"
    assert api.model_locks() == {"MODEL#li-48v-20ah": ids[0], "MODEL#ch-1": ids[1]}
    assert api.patch(ids[1], {"model": "li-48v-20ah"}).status == 409


def test_import_refuses_a_bad_file_and_writes_nothing(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.json"
    bad: list[dict[str, Any]] = [{"name": "", "model": "A", "sourceLocale": "en"}, {"name": "B", "model": "a"}]
    path.write_text(json.dumps(bad))
    assert main(["products", "import", str(path), "--company", "ACME"]) == 1
    message = capsys.readouterr().err
    assert "nothing imported" in message
    assert "item 0: name" in message and "item 1: sourceLocale" in message
    assert api.all_items() == []


def test_import_stops_on_a_model_taken_in_the_company(
    api: Api, product_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = api.add_product(model="CH-1")
    before = api.all_items()
    assert main(["products", "import", str(product_file), "--company", "ACME"]) == 1
    error = capsys.readouterr().err
    assert "'CH-1'" in error and taken.id in error
    # all or nothing: the other product of the file was not written either
    assert api.all_items() == before


def test_missing_configuration_fails_fast(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("PRODUCTS_TABLE_NAME", raising=False)
    monkeypatch.setenv("CREDENTIALS_TABLE_NAME", "x")
    assert main(["credentials", "create", "--company", "ACME"]) == 1
    error = capsys.readouterr().err
    assert "PRODUCTS_TABLE_NAME" in error


@pytest.mark.dynamodb_local
@pytest.mark.parametrize("backend", ["dynamodb_local"], indirect=True)
def test_console_script_against_dynamodb_local(
    dynamodb_local: Any, table_names: dict[str, str], tmp_path: Path
) -> None:
    script = shutil.which("products-api", path=str(Path(sys.executable).parent))
    assert script, "the console script is declared in pyproject.toml"
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local.endpoint_url,
        "PRODUCTS_TABLE_NAME": table_names["ProductsTable"],
        "IDEMPOTENCY_TABLE_NAME": table_names["IdempotencyTable"],
        "CREDENTIALS_TABLE_NAME": table_names["CredentialsTable"],
    }
    created = subprocess.run(
        [script, "credentials", "create", "--company", "ACME"], env=env, capture_output=True, text=True, check=True
    )
    assert created.stdout.strip().startswith("tp_")
    assert "shown only once" in created.stderr
    path = tmp_path / "one.json"
    path.write_text(json.dumps(PRODUCTS[:1]))
    imported = subprocess.run(
        [script, "products", "import", str(path), "--company", "ACME"], env=env, capture_output=True, text=True
    )
    assert imported.returncode == 0, imported.stderr
    assert len(imported.stdout.split()) == 1
