"""The interactive API reference at `/docs/`: Swagger UI on `openapi.json`, served from files, nothing from a CDN.

One table of what is served, for both places that serve it: the local runner (files in the repository:
`docs/site/`, `docs/openapi.json`, `node_modules/swagger-ui-dist/`) and the deployed stack's optional docs function
(the same files from its layers under /opt). Only the files named here are served; every other `/docs/...` path is a
404, so no path reaches outside the three folders.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PREFIX = "/docs"

_HTML = "text/html; charset=utf-8"
_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
_JSON = "application/json"
# What the page may load: its own files only (Swagger UI's inline styles aside); the API it calls is the same origin.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class DocsAnswer:
    status: int
    headers: Headers
    body: bytes


@dataclass(frozen=True)
class DocsFiles:
    """Where the page's three kinds of file are."""

    site_dir: Path  # index.html and docs-page.js (docs/site)
    openapi_file: Path  # docs/openapi.json
    swagger_ui_dir: Path  # the npm package swagger-ui-dist

    def files(self) -> dict[str, tuple[Path, str]]:
        """`/docs/<name>` -> (file, content type)."""
        return {
            "": (self.site_dir / "index.html", _HTML),
            "docs-page.js": (self.site_dir / "docs-page.js", _JS),
            "openapi.json": (self.openapi_file, _JSON),
            "swagger-ui.css": (self.swagger_ui_dir / "swagger-ui.css", _CSS),
            "swagger-ui-bundle.js": (self.swagger_ui_dir / "swagger-ui-bundle.js", _JS),
        }


def is_docs_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def serve(files: DocsFiles, method: str, path: str) -> DocsAnswer | None:
    """The answer to `method path` when `path` is the page's (`/docs` or under `/docs/`), else None."""
    if not is_docs_path(path):
        return None
    if path == PREFIX:
        # The page's links are relative: they must resolve under /docs/.
        return _text(308, "see /docs/", [("Location", "docs/")])
    if method.upper() not in {"GET", "HEAD"}:
        return _text(405, "the reference is read with GET", [("Allow", "GET, HEAD")])
    found = files.files().get(path[len(PREFIX) + 1 :])
    if found is None:
        return _text(404, "no such file in the API reference: open /docs/")
    file, content_type = found
    try:
        body = file.read_bytes()
    except FileNotFoundError:
        return _text(500, f"{file.name} is missing on this server (installed with `make install`)")
    headers = [("Content-Type", content_type), ("Content-Security-Policy", _CSP), ("X-Content-Type-Options", "nosniff")]
    # Revalidated on every load: the page and the document change with the code, the assets with the pinned version.
    headers.append(("Cache-Control", "no-cache"))
    return DocsAnswer(200, headers, body)


def _text(status: int, message: str, extra: Headers | None = None) -> DocsAnswer:
    return DocsAnswer(status, [("Content-Type", "text/plain; charset=utf-8"), *(extra or [])], message.encode())
