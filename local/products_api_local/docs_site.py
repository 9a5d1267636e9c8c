"""`/docs/` on the local runner: the interactive API reference from the repository's own files.

The page (`docs/site/`), the document (`docs/openapi.json`, read on every request, so a regenerated document shows on
the next reload) and Swagger UI's assets (npm `swagger-ui-dist`, installed by `make` into node_modules) are served
by `products_api.docs_page`, which the deployed stack's optional docs function uses too.
"""

from __future__ import annotations

from pathlib import Path

from products_api.docs_page import DocsFiles, is_docs_path, serve

from products_api_local.template.document import project_root

SWAGGER_UI_PACKAGE = Path("node_modules") / "swagger-ui-dist"


def local_files(root: Path | None = None) -> DocsFiles:
    base = root or project_root()
    return DocsFiles(
        site_dir=base / "docs" / "site",
        openapi_file=base / "docs" / "openapi.json",
        swagger_ui_dir=base / SWAGGER_UI_PACKAGE,
    )


def serve_docs(method: str, path: str) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """(status, headers, body) for a `/docs` path, or None for any other path (the API's routes)."""
    if not is_docs_path(path):
        return None  # before looking for the checkout's files: every API request passes here
    answer = serve(local_files(), method, path)
    return None if answer is None else (answer.status, answer.headers, answer.body)


def docs_url(base_url: str) -> str:
    """Where the banner sends a reader."""
    return f"{base_url}/docs/"
