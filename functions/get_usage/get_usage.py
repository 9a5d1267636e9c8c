"""GET /api/v1/usage: route, authenticate, read the company's usage, map the result."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from products_api.api.entrypoint import caller, http_app, http_entrypoint, resolve_observed
from products_api.api.handler import respond
from products_api.api.observability import USAGE_READ
from products_api.api.responses import Outcome
from products_api.errors import FieldProblem, ValidationFailed
from products_api.limits.usage import get_usage_runtime

REQUIRED_SCOPE = "products:read"

app = http_app()


@app.get("/api/v1/usage")
def get_usage() -> Response[str]:
    runtime = get_usage_runtime()
    principal = caller(app, runtime.authenticator, REQUIRED_SCOPE)
    unknown = sorted(app.current_event.query_string_parameters or {})
    if unknown:
        # the route takes no parameter: a misspelt one is refused rather than ignored
        raise ValidationFailed([FieldProblem(field=name, message="unknown query parameter") for name in unknown])
    usage = runtime.reader.usage(principal.company_id)
    # the count grows with every write: no cache may keep it
    return respond(app, Outcome(200, usage.to_json(), {"Cache-Control": "no-store"}))


@http_entrypoint
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve_observed(app, event, context, get_usage_runtime().settings, USAGE_READ)
