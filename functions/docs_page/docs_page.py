"""GET /docs and /docs/{proxy+} when the stack is deployed with PublishDocs=true: the interactive API reference.

The same page `make serve` shows (products_api.docs_page): its files come from two layers, unpacked under /opt:
DocsSiteLayer (the repository's docs/ folder: site/ and openapi.json) and SwaggerUiLayer (npm swagger-ui-dist).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from products_api.docs_page import DocsFiles, serve

# Lambda unpacks every layer into /opt.
LAYERS = Path("/opt")
FILES = DocsFiles(site_dir=LAYERS / "site", openapi_file=LAYERS / "openapi.json", swagger_ui_dir=LAYERS)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event -> the file's response; every file served is UTF-8 text."""
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "GET"))
    answer = serve(FILES, method, str(event.get("rawPath", "")))
    if answer is None:  # only /docs routes reach this function
        return {"statusCode": 404, "headers": {"Content-Type": "text/plain"}, "body": "not found"}
    return {
        "statusCode": answer.status,
        "headers": dict(answer.headers),
        "body": answer.body.decode("utf-8"),
        "isBase64Encoded": False,
    }
