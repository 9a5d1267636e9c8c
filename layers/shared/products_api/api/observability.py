"""Logs, metrics and traces of a request, and the one place that maps its outcome to them.

Every request ends with exactly one JSON log line and one outcome metric (CloudWatch EMF), whatever happened:
`observed_request` times the request and, when it ends, turns what the handler recorded on the `RequestLog` (the
response, and the exception behind an error) into both. The event itself is never logged, and every log line passes
through `redact` on its way out, so a credential that ends up in a message or an exception is masked.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from products_api.api import catalogue, messages
from products_api.api.requests import product_id_from_path
from products_api.api.responses import Outcome
from products_api.errors import DomainError, InvalidProductId

if TYPE_CHECKING:
    from products_api.core.settings import ApiSettings

# --- outcome metrics: one per request, value 1, so their sum is the request count --------------------------------

PRODUCT_UPDATED = "ProductUpdated"  # 200, the update ran (`{}` included: it answers the product, writing nothing)
HISTORY_READ = "HistoryRead"  # 200 of GET .../history
PRODUCT_READ = "ProductRead"  # 200 or 304 of GET /api/v1/products/{id}, 200 of GET /api/v1/products
IDEMPOTENT_REPLAY = "IdempotentReplay"  # a kept outcome answered again (whatever its status); nothing ran
IMAGE_APPENDED = "ImageAppended"  # 200 of POST .../images: the image was stored and appended
UPLOAD_CREATED = "UploadCreated"  # 201 of POST .../images/uploads
UPLOAD_READ = "UploadRead"  # 200 of GET .../images/uploads/{uploadId}
USAGE_READ = "UsageRead"  # 200 of GET /api/v1/usage

# Each error's metric is its entry's in the error catalogue; with the successes above, every metric an answer counts
# under, each once.
OUTCOME_METRICS = (
    PRODUCT_UPDATED,
    HISTORY_READ,
    PRODUCT_READ,
    IDEMPOTENT_REPLAY,
    IMAGE_APPENDED,
    UPLOAD_CREATED,
    UPLOAD_READ,
    USAGE_READ,
    *dict.fromkeys(entry.metric for entry in catalogue.every_error()),
)
# The metric dimensions besides Powertools' `service`: low cardinality only. Request, company and product ids go in
# the log line (and the request id in the EMF metadata), never in a dimension: each value would be a metric.
ENVIRONMENT_DIMENSION = "environment"


def outcome_metric(status: int, code: str | None, *, replayed: bool, success: str = PRODUCT_UPDATED) -> str:
    """The metric of an answer; `success` names what a 2xx of this route did."""
    if replayed:
        return IDEMPOTENT_REPLAY
    if code is None:
        return success if status < 400 else catalogue.INTERNAL.metric
    return catalogue.METRIC_BY_CODE.get(code, catalogue.INTERNAL.metric)


# --- redaction ---------------------------------------------------------------------------------------------------

REDACTED = "[REDACTED]"
# Mapping keys whose values are secrets whatever they hold (headers, botocore's request dicts, settings).
_SENSITIVE_KEY = re.compile(r"authorization|security[-_]?token|secret|password|api[-_]?key|cookie|^token$", re.I)
# A cheap test first: almost every string logged contains none of these, and skips the substitutions.
_MAYBE_SECRET = re.compile(r"authorization|bearer|basic\s|tp_|security-token|credential=|signature=|AKIA|ASIA", re.I)
_SECRETS_IN_TEXT = (
    # a header's value in a repr, a dict or JSON: 'Authorization': 'Bearer x', "x-amz-security-token"=b"..."
    (
        re.compile(r"""((?:authorization|x-amz-security-token)["']?\s*[:=]\s*b?)(["'])(?:\\.|(?!\2).)*\2""", re.I),
        rf"\1\2{REDACTED}\2",
    ),
    # a header line: Authorization: Bearer x (to the end of the line)
    (re.compile(r"((?:authorization|x-amz-security-token)\s*:\s*)(?![\"'\s])[^\r\n]+", re.I), rf"\1{REDACTED}"),
    (re.compile(r"\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*", re.I), rf"\1 {REDACTED}"),
    # API keys (tp_ and the 256-bit secret); OAuth tokens carry no prefix and are caught by the forms above
    (re.compile(r"\btp_[A-Za-z0-9_\-]{8,}"), f"tp_{REDACTED}"),
    # SigV4 parts and AWS access key ids (botocore's request dumps)
    (re.compile(r"\b(Credential|Signature)=[^\s,'\"]+"), rf"\1={REDACTED}"),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),
)


def redact_text(text: str) -> str:
    if not _MAYBE_SECRET.search(text):
        return text
    for pattern, replacement in _SECRETS_IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any) -> Any:
    """A copy of a log record's data with credentials masked, in keys' values and inside any text."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            key: REDACTED if isinstance(key, str) and _SENSITIVE_KEY.search(key) and item is not None else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value))  # what json.dumps(default=str) would write, redacted first


# Anything `redact` could change leaves one of these in the serialised line, case-folded: a sensitive key's name, or
# the cheap test of a secret in text (loosened where JSON escaping could hide it: `basic` without the whitespace,
# `security`). Substring tests of the case-folded line: a case-insensitive regex over the line cost ~15x more, on
# every request. casefold() folds at least what re.IGNORECASE matches (e.g. the long s and the Kelvin sign); what it
# folds beyond only sends a line down the masking path.
_MIGHT_HOLD_SECRET = (
    "authorization",
    "bearer",
    "basic",
    "tp_",
    "security",
    "credential=",
    "signature=",
    "akia",
    "asia",
    "secret",
    "password",
    "apikey",
    "api-key",
    "api_key",
    "cookie",
    "token",
)


def might_hold_secret(text: str) -> bool:
    folded = text.casefold()
    return any(word in folded for word in _MIGHT_HOLD_SECRET)


def _json_default(value: Any) -> Any:
    # as `redact` writes them: sets as lists, anything else as its text
    return list(value) if isinstance(value, set | frozenset) else str(value)


def redacted_json(log: dict[str, Any]) -> str:
    """The Logger's serializer: the last step before a line is written, so nothing gets around it.

    Most lines hold nothing to mask: they are written as they are after one scan of the text, and only a line that
    might hold a secret is walked and masked (a request's line is on every request's path).
    """
    text = json.dumps(log, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    if not might_hold_secret(text):
        return text
    return json.dumps(redact(log), separators=(",", ":"), ensure_ascii=False)


def protect_library_logs() -> None:
    """botocore's DEBUG output holds the SigV4 `Authorization` header, the session token of the function's role and
    whole DynamoDB request and response bodies; its INFO output is chatter (where credentials were found). Neither is
    wanted in the function's logs, whatever level the root logger is given (Lambda's AWS_LAMBDA_LOG_LEVEL, a
    developer's basicConfig), so botocore logs warnings and errors only, unless its level was set on purpose.
    """
    botocore_logger = logging.getLogger("botocore")
    if botocore_logger.level == logging.NOTSET:
        botocore_logger.setLevel(logging.WARNING)


# --- the Powertools objects (service from POWERTOOLS_SERVICE_NAME) ----------------------------------------------

logger = Logger(json_serializer=redacted_json)
# Its records go to its own (redacting) handler only: propagated, a handler that someone adds to the root logger later
# would write them in its own format, exception text and all, past `redact`.
logging.getLogger(logger.name).propagate = False
metrics = Metrics()


def _tracing_on() -> bool:
    # Powertools' own rule (POWERTOOLS_TRACE_DISABLED; off outside Lambda, under sam local and chalice), asked before
    # a Tracer exists: building one imports aws-xray-sdk, which creates two botocore clients (~250 ms of a cold
    # start), even when it then disables itself.
    return not Tracer._is_tracer_disabled()


# In Lambda with tracing on, the Tracer patches botocore only, so every DynamoDB call is a subsegment, and nothing
# else is imported to be patched. With tracing off (tests, the local runner, the CLI, POWERTOOLS_TRACE_DISABLED=true)
# there is no Tracer: X-Ray is never imported and the handler is not wrapped.
tracer: Tracer | None = Tracer(patch_modules=("botocore",)) if _tracing_on() else None

_Handler = TypeVar("_Handler", bound=Callable[..., Any])


def traced(handler: _Handler) -> _Handler:
    """The Lambda handler as one X-Ray subsegment when tracing is on (its response, product data, is not captured);
    the handler itself when it is off.
    """
    if tracer is None:
        return handler
    return cast("_Handler", tracer.capture_lambda_handler(handler, capture_response=False))


# --- one request -------------------------------------------------------------------------------------------------


@dataclass
class RequestLog:
    """What the handler learnt about one request: its answer, and the exception behind an error answer."""

    outcome: Outcome | None = None
    error: BaseException | None = None

    def answered(self, outcome: Outcome, error: BaseException | None = None) -> None:
        self.outcome = outcome
        self.error = error


def _path_product_id(event: Mapping[str, Any]) -> str | None:
    raw = (event.get("pathParameters") or {}).get("id")
    if not isinstance(raw, str):
        return None
    try:
        return product_id_from_path(raw)
    except InvalidProductId:
        return None  # not an id: whatever the client sent there is not logged


def _cause(error: BaseException | None) -> str | None:
    cause = error.__cause__ if error is not None else None
    return f"{type(cause).__name__}: {cause}"[:500] if cause is not None else None


@contextmanager
def observed_request(
    event: Mapping[str, Any], settings: ApiSettings, *, success_metric: str = PRODUCT_UPDATED
) -> Iterator[RequestLog]:
    """Time one request; when it ends (answered or raising), write its log line and its outcome metric (a 2xx
    counts as `success_metric`).
    """
    started = time.perf_counter()
    request = RequestLog()
    headers = event.get("headers") or {}
    try:
        # errors answer in the client's language (api/messages.py), whichever layer builds them
        with messages.request_language(headers.get("accept-language")):
            yield request
    except Exception as exc:
        # the resolver answers every exception itself; this is a failure around it, answered 500 by Lambda
        request.answered(Outcome(500, "", code="internal_error"), exc)
        raise
    finally:
        _report(event, request, (time.perf_counter() - started) * 1000, settings, success_metric)


def _report(
    event: Mapping[str, Any], request: RequestLog, latency_ms: float, settings: ApiSettings, success_metric: str
) -> None:
    outcome = request.outcome or Outcome(500, "", code="internal_error")
    error = request.error
    request_id = str((event.get("requestContext") or {}).get("requestId") or "")
    metric = outcome_metric(outcome.status_code, outcome.code, replayed=outcome.replayed, success=success_metric)
    fields: dict[str, Any] = {
        "request_id": request_id,
        "product_id": _path_product_id(event),
        "status": outcome.status_code,
        "code": outcome.code,
        "outcome": metric,
        "replayed": outcome.replayed,
        "latency_ms": round(latency_ms, 2),
    }
    if error is not None and not outcome.replayed:
        fields["reason"] = type(error).__name__
    if outcome.status_code >= 500 and not isinstance(error, DomainError | None):
        # a bug: the stack trace goes to the log (redacted like the rest), never into the response
        logger.error("unexpected error", exc_info=error, extra=fields)
    elif outcome.status_code >= 500:
        logger.warning("request failed", extra={**fields, "cause": _cause(error)})
    elif outcome.status_code >= 400:
        logger.info("request refused", extra=fields)
    else:
        logger.info("request completed", extra=fields)

    metrics.namespace = settings.metrics_namespace
    metrics.add_dimension(name=ENVIRONMENT_DIMENSION, value=settings.environment_name)
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    metrics.add_metadata(key="request_id", value=request_id)

    # X-Ray annotations are indexed: find a request's trace by the requestId of its response, or traces by outcome
    if tracer is not None:
        tracer.put_annotation(key="request_id", value=request_id)
        tracer.put_annotation(key="status", value=str(outcome.status_code))
        tracer.put_annotation(key="outcome", value=metric)
