"""The /docs file table (products_api.docs_page), as the runner and the deployed docs function serve it."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest
from products_api.docs_page import DocsFiles, serve
from products_api_local.docs_site import local_files, serve_docs
from products_api_local.template.document import load_template
from support import ROOT


@pytest.fixture
def files() -> DocsFiles:
    return local_files(ROOT)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/docs/", "text/html"),
        ("/docs/docs-page.js", "text/javascript"),
        ("/docs/openapi.json", "application/json"),
        ("/docs/swagger-ui.css", "text/css"),
        ("/docs/swagger-ui-bundle.js", "text/javascript"),
    ],
)
def test_the_page_files_are_served(files: DocsFiles, path: str, content_type: str) -> None:
    answer = serve(files, "GET", path)
    assert answer is not None and answer.status == 200 and answer.body
    headers = dict(answer.headers)
    assert headers["Content-Type"].startswith(content_type)
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_document_is_the_committed_one(files: DocsFiles) -> None:
    answer = serve(files, "GET", "/docs/openapi.json")
    assert answer is not None and answer.body == (ROOT / "docs" / "openapi.json").read_bytes()


@pytest.mark.parametrize("path", ["/docs/../template.yaml", "/docs/package.json", "/docs/index.html", "/docs/x/"])
def test_nothing_else_under_docs_is_served(files: DocsFiles, path: str) -> None:
    answer = serve(files, "GET", path)
    assert answer is not None and answer.status == 404


def test_docs_without_slash_redirects_so_relative_links_resolve(files: DocsFiles) -> None:
    answer = serve(files, "GET", "/docs")
    assert answer is not None and answer.status == 308 and ("Location", "docs/") in answer.headers


def test_only_reads_are_served(files: DocsFiles) -> None:
    answer = serve(files, "POST", "/docs/")
    assert answer is not None and answer.status == 405 and ("Allow", "GET, HEAD") in answer.headers


@pytest.mark.parametrize("path", ["/api/v1/products/x", "/docsx", "/", "/documentation"])
def test_other_paths_are_left_to_the_api(files: DocsFiles, path: str) -> None:
    assert serve(files, "GET", path) is None
    assert serve_docs("GET", path) is None


def test_a_missing_asset_says_how_to_install_it(tmp_path: Path) -> None:
    answer = serve(DocsFiles(tmp_path, tmp_path / "openapi.json", tmp_path), "GET", "/docs/swagger-ui.css")
    assert answer is not None and answer.status == 500 and b"make install" in answer.body


def test_the_deployed_function_answers_as_the_runner(monkeypatch: pytest.MonkeyPatch, files: DocsFiles) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "functions" / "docs_page"))
    sys.modules.pop("docs_page", None)
    module = importlib.import_module("docs_page")
    monkeypatch.setattr(module, "FILES", files)
    event: dict[str, Any] = {"rawPath": "/docs/", "requestContext": {"http": {"method": "GET"}}}
    result = module.lambda_handler(event, None)
    assert result["statusCode"] == 200 and result["isBase64Encoded"] is False
    assert result["body"] == (ROOT / "docs" / "site" / "index.html").read_text(encoding="utf-8")
    redirect = module.lambda_handler({**event, "rawPath": "/docs"}, None)
    assert redirect["statusCode"] == 308 and redirect["headers"]["Location"] == "docs/"


def test_the_deployed_page_is_off_unless_asked_for() -> None:
    template = load_template()
    assert template["Parameters"]["PublishDocs"]["Default"] == "false"
    docs = [name for name, item in template["Resources"].items() if name.startswith("Docs") or "Swagger" in name]
    assert docs and all(template["Resources"][name].get("Condition") == "PublishesDocs" for name in docs)
