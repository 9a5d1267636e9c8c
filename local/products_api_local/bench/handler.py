"""The Lambda side of the benchmark: the handler imported as Lambda imports it, its context, and its events.

Kept free of the bench's other imports (YAML, the template, the capacity meter), so that a fresh interpreter measuring
the function's memory and import cost loads nothing the function itself would not.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from products_api_local.functions.loader import import_function_module

ROOT_ENV_VAR = "PRODUCTS_API_BENCH_ROOT"


def project_root() -> Path:
    """The checkout, as the parent benchmark found it (it sets the variable), else found from here."""
    given = os.environ.get(ROOT_ENV_VAR)
    if given:
        return Path(given)
    # imported only here: the template reader loads YAML, which the function never does
    from products_api_local.template.document import project_root as find_root

    return find_root()


def handler_module() -> ModuleType:
    """The function's own module, imported from its folder as Lambda does."""
    return import_function_module(project_root() / "functions" / "update_product", "update_product")


LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


class QuietHandler:
    """The module's handler, writing its log line and EMF metrics as on Lambda but to /dev/null.

    The writes stay in the figures (Lambda pays for them too); only the console is spared two JSON lines a request.
    Called, it redirects stdout around the one request. Timed requests run inside `quietly()` and call `direct`:
    the handler as Lambda calls it, with no redirect around each call (that is the harness's cost, not the function's).
    """

    def __init__(self, module: ModuleType) -> None:
        # the functions' Logger, imported by the handler's module already
        from products_api.api.observability import logger

        self._sink = open(os.devnull, "w")  # noqa: SIM115  # lives as long as the process, as stdout does
        # the Powertools logger bound its stream to stdout when it was built; EMF is printed to stdout at each request
        for handler in logging.getLogger(logger.name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(self._sink)
        self.direct: LambdaHandler = module.lambda_handler

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.quietly():
            return self.direct(event, context)

    def quietly(self) -> contextlib.AbstractContextManager[Any]:
        """Everything printed meanwhile (the EMF blobs) goes to /dev/null."""
        return contextlib.redirect_stdout(self._sink)


class Events:
    """HTTP API v2 events as API Gateway sends them, from `events/patch_product.json`."""

    def __init__(self, token: str) -> None:
        self._base: dict[str, Any] = json.loads((project_root() / "events" / "patch_product.json").read_text())
        self._token = token

    def patch(self, product_id: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        event = copy.deepcopy(self._base)
        path = f"/api/v1/products/{product_id}"
        event["rawPath"] = path
        event["requestContext"]["http"]["path"] = path
        event["requestContext"]["requestId"] = str(uuid.uuid4())
        event["pathParameters"] = {"id": product_id}
        event_headers = {k: v for k, v in event["headers"].items() if k not in {"authorization", "content-length"}}
        event_headers["authorization"] = f"Bearer {self._token}"
        event_headers.update({name.lower(): value for name, value in (headers or {}).items()})
        event["headers"] = event_headers
        event["body"] = json.dumps(body)
        event["isBase64Encoded"] = False
        return event
