"""Logs, metrics and traces of a request, and the one place that maps its outcome to them.

Every request ends with exactly one JSON log line and one outcome metric (CloudWatch EMF), whatever happened:
`observed` times the request and, when it ends, turns what the handler recorded on the `RequestLog` (the
response, and the exception behind an error) into both. The event itself is never logged, and every log line passes
through `redact` on its way out, so a credential that ends up in a message or an exception is masked.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS, LambdaPowertoolsFormatter

from products_api.api import catalogue, messages
from products_api.api.redaction import redacted_json
from products_api.api.requests import product_id_from_path
from products_api.api.responses import Outcome
from products_api.errors import DomainError, InvalidProductId

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

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
SERVICE_DIMENSION = "service"  # POWERTOOLS_SERVICE_NAME, when set


def outcome_metric(status: int, code: str | None, *, replayed: bool, success: str = PRODUCT_UPDATED) -> str:
    """The metric of an answer; `success` names what a 2xx of this route did."""
    if replayed:
        return IDEMPOTENT_REPLAY
    if code is None:
        return success if status < 400 else catalogue.INTERNAL.metric
    return catalogue.METRIC_BY_CODE.get(code, catalogue.INTERNAL.metric)


def protect_library_logs() -> None:
    """botocore's DEBUG output holds the SigV4 `Authorization` header, the session token of the function's role and
    whole DynamoDB request and response bodies; its INFO output is chatter (where credentials were found). Neither is
    wanted in the function's logs, whatever level the root logger is given (Lambda's AWS_LAMBDA_LOG_LEVEL, a
    developer's basicConfig), so botocore logs warnings and errors only, unless its level was set on purpose.
    """
    botocore_logger = logging.getLogger("botocore")
    if botocore_logger.level == logging.NOTSET:
        botocore_logger.setLevel(logging.WARNING)


# --- the Powertools Logger (service from POWERTOOLS_SERVICE_NAME) -----------------------------------------------

logger = Logger(json_serializer=redacted_json)
# Its records go to its own (redacting) handler only: propagated, a handler that someone adds to the root logger later
# would write them in its own format, exception text and all, past `redact`.
_std_logger = logging.getLogger(logger.name)
_std_logger.propagate = False


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
_Answer = TypeVar("_Answer")


def traced(handler: _Handler) -> _Handler:
    """The Lambda handler as one X-Ray subsegment when tracing is on (its response, product data, is not captured);
    the handler itself when it is off.
    """
    if tracer is None:
        return handler
    return cast("_Handler", tracer.capture_lambda_handler(handler, capture_response=False))


# --- one request -------------------------------------------------------------------------------------------------

# what is logged and counted when no answer was recorded: the request failed around the router
UNANSWERED = Outcome(500, "", code="internal_error")


@dataclass
class RequestLog:
    """What the handler learnt about one request: its answer, the exception behind an error answer, and what a 2xx
    of the route it took counts as.
    """

    outcome: Outcome | None = None
    error: BaseException | None = None
    success_metric: str = PRODUCT_UPDATED

    def answered(self, outcome: Outcome, error: BaseException | None = None) -> None:
        self.outcome = outcome
        self.error = error


@dataclass
class _Container:
    """What lives as long as the container: whether its first request is still to come, and the metrics counted
    during the request under way (the rate limiter's), which go into that request's one EMF blob.
    """

    cold: bool = True
    counted: list[str] = field(default_factory=list)


_container = _Container()


def count_metric(name: str) -> None:
    """Count `name` once in the current request's EMF blob, next to its outcome metric."""
    _container.counted.append(name)


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


def _begin(event: Mapping[str, Any], context: LambdaContext) -> logging.Handler:
    """The Logger's keys for this request, as Powertools' `inject_lambda_context(clear_state=True)` sets them: the
    last request's keys dropped, the container's and the invocation's added, the correlation id = API Gateway's
    request id. Written out here: the decorator's wrapper and its JMESPath look-up were on every request's path.

    The keys go straight to the Logger's formatter, as `structure_logs` puts them there, with one look-up of its
    handler (returned, for the request's log line) where `structure_logs` made three. The keys the formatter was built
    with (service, sampling rate) come back with `clear_state`. `tests/unit/test_log_line.py` holds the keys to
    `structure_logs`' own.
    """
    cold_start, _container.cold = _container.cold, False
    _container.counted.clear()
    handler = logger.registered_handler
    formatter = cast("LambdaPowertoolsFormatter", handler.formatter)
    formatter.clear_state()
    formatter.thread_safe_clear_keys()
    formatter.append_keys(
        cold_start=cold_start,
        function_name=context.function_name,
        function_memory_size=context.memory_limit_in_mb,
        function_arn=context.invoked_function_arn,
        function_request_id=context.aws_request_id,
        # what set_correlation_id appends, in the same call
        correlation_id=(event.get("requestContext") or {}).get("requestId"),
    )
    return handler


def observed(
    event: Mapping[str, Any], context: LambdaContext, settings: ApiSettings, answer: Callable[[RequestLog], _Answer]
) -> _Answer:
    """`answer(request_log)`, timed; when it ends (answered or raising), the request's log line and its EMF blob (the
    outcome metric, and whatever `count_metric` counted meanwhile) are written from what it recorded on the log.
    Written out rather than as a context manager: its generator machinery was on every request's path.
    """
    started = time.perf_counter()
    log_handler = _begin(event, context)
    request = RequestLog()
    # errors answer in the client's language (api/messages.py), whichever layer builds them
    language = messages.begin_request_language((event.get("headers") or {}).get("accept-language"))
    try:
        return answer(request)
    except Exception as exc:
        # the router answers every exception itself; this is a failure around it, answered 500 by Lambda
        request.answered(UNANSWERED, exc)
        raise
    finally:
        messages.end_request_language(language)
        _report(event, request, (time.perf_counter() - started) * 1000, settings, log_handler)


def _report(
    event: Mapping[str, Any],
    request: RequestLog,
    latency_ms: float,
    settings: ApiSettings,
    log_handler: logging.Handler,
) -> None:
    outcome = request.outcome or UNANSWERED
    error = request.error
    request_id = str((event.get("requestContext") or {}).get("requestId") or "")
    metric = outcome_metric(
        outcome.status_code, outcome.code, replayed=outcome.replayed, success=request.success_metric
    )
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
    blob = _metrics_blob(settings, request_id, metric)
    if outcome.status_code >= 500:
        print(blob)
    else:
        message = "request refused" if outcome.status_code >= 400 else "request completed"
        _write_lines(log_handler, info_line(message, fields, log_handler, sys._getframe(0)), blob)

    # X-Ray annotations are indexed: find a request's trace by the requestId of its response, or traces by outcome
    if tracer is not None:
        tracer.put_annotation(key="request_id", value=request_id)
        tracer.put_annotation(key="status", value=str(outcome.status_code))
        tracer.put_annotation(key="outcome", value=metric)


# --- the two lines every request writes, without the machinery around them ------------------------------------


# Powertools' tuple of the logging record's attributes, as a set: each key of each line is looked up in it
_RESERVED_LOG_ATTRS = frozenset(RESERVED_LOG_ATTRS)
# one encoder for every EMF blob (json.dumps builds one per call when given options)
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


@dataclass(frozen=True)
class _Stamp:
    """What the Powertools formatter's `formatTime` reads of a log record."""

    created: float
    msecs: float


def info_line(message: str, fields: Mapping[str, Any], handler: logging.Handler, caller: FrameType) -> str | None:
    """An INFO line exactly as `logger.info(message, extra=fields)` writes it from `caller`, or None below the Logger's
    level: the Logger's keys in its order (level, location = the caller's function:line, message, timestamp by its
    formatter, service, the Lambda context, the correlation id, appended keys), then `fields`, then the X-Ray trace id,
    None values dropped, through the same redacting serializer. What it skips is the logging module's record, caller
    look-up, handler lock and the formatter's copy of the record: about 0.25 ms of every request
    (docs/benchmarks.md). `tests/unit/test_log_line.py` holds it to the Logger's own output.
    """
    if not _std_logger.isEnabledFor(logging.INFO):
        return None
    formatter: Any = handler.formatter
    # the formatter's keys, then the thread's, in their order: one merge, no Python step per key
    line: dict[str, Any] = {**formatter.get_current_keys(), **formatter.thread_safe_get_current_keys()}
    record = {
        "levelname": "INFO",
        "funcName": caller.f_code.co_name,
        "lineno": caller.f_lineno,
        "asctime": _timestamps.text(formatter, time.time_ns()),
    }
    for key in _RESERVED_LOG_ATTRS.intersection(line):
        # the formatter's placeholders (%(levelname)s, %(funcName)s:%(lineno)d, %(asctime)s) filled as it fills them
        value = line[key]
        if isinstance(value, str):
            line[key] = value % record
    line["message"] = message
    line.update(fields)
    trace = os.environ.get("_X_AMZN_TRACE_ID")  # set by Lambda for each invocation, as the formatter reads it
    line["xray_trace_id"] = trace.split(";")[0].replace("Root=", "") if trace else None
    return redacted_json({key: value for key, value in line.items() if value is not None})


def _write_lines(handler: logging.Handler, line: str | None, blob: str) -> None:
    """A request's log line (None below the Logger's level) and its EMF blob. On Lambda both go to stdout (the
    Logger's stream unless it was given another) and the runtime flushes each write to it: one write there, where
    `logger.info` and `print` made three (the line, the blob, the blob's newline). A Logger writing elsewhere gets its
    line, and stdout the blob, as before.
    """
    stream = cast("logging.StreamHandler[Any]", handler).stream
    if stream is sys.stdout:
        stream.write(f"{blob}\n" if line is None else f"{line}\n{blob}\n")
        stream.flush()
        return
    if line is not None:
        stream.write(line + "\n")
        stream.flush()
    print(blob)


class _Timestamps:
    """The formatter's `asctime`, with the text of the current second kept: its `formatTime` ran localtime and
    strftime for every line. Its own default (`%Y-%m-%d %H:%M:%S,%F%z`, `%F` the milliseconds) is cut at `%F`, each
    part formatted once a second; any other set-up (RFC 3339, datetime directives) is left to `formatTime` itself.
    """

    def __init__(self) -> None:
        # (key, parts) in one tuple: replaced whole, so a thread never pairs one second's key with another's parts
        self._kept: tuple[tuple[Any, ...] | None, list[str] | None] = (None, None)

    def text(self, formatter: Any, now_ns: int) -> str:
        second, rest_ns = divmod(now_ns, 1_000_000_000)
        milliseconds = rest_ns // 1_000_000
        datefmt = formatter.datefmt or formatter.default_time_format
        if not (formatter.use_rfc3339_iso8601 or (formatter.datefmt and formatter.use_datetime_directive)):
            key = (id(formatter), formatter.converter, second, datefmt)
            kept_key, parts = self._kept
            if kept_key != key:
                split = datefmt.split(formatter.custom_ms_time_directive)
                struct = formatter.converter(second)
                # a part ending in "%" would pair with the milliseconds: formatTime alone says what that writes
                parts = None if any(part.endswith("%") for part in split) else [time.strftime(p, struct) for p in split]
                self._kept = (key, parts)
            if parts is not None:
                return ("%03d" % milliseconds).join(parts)  # noqa: UP031  # as the formatter writes it
        return str(formatter.formatTime(cast("logging.LogRecord", _Stamp(now_ns / 1e9, milliseconds + 0.0))))


_timestamps = _Timestamps()


def _metrics_blob(settings: ApiSettings, request_id: str, outcome: str) -> str:
    """The request's EMF blob, as Powertools' `Metrics` prints it (one directive; dimensions, then metadata, then
    each metric's values), with no metric object between requests to reset. Only the timestamp and the request id
    change from one request to the next: the text around them is kept per set-up and set of metrics.
    """
    names = (outcome, *_container.counted)
    _container.counted.clear()
    before_timestamp, before_request_id, after_request_id = _blob_text(
        settings.metrics_namespace, settings.environment_name, settings.service_name, names
    )
    return (
        before_timestamp
        + str(int(time.time() * 1000))
        + before_request_id
        + _COMPACT_JSON.encode(request_id)
        + after_request_id
    )


# stand-ins for the two values of each request, cut out of the encoded blob (JSON text never holds them unescaped)
_TIMESTAMP_MARK = "\x00timestamp\x00"
_REQUEST_ID_MARK = "\x00request_id\x00"


@functools.lru_cache(maxsize=64)
def _blob_text(namespace: str, environment: str, service: str | None, names: tuple[str, ...]) -> tuple[str, str, str]:
    """The blob's text before its timestamp, between it and the request id, and after: the blob itself encoded with
    marks in their place and cut there, so the text cannot drift from the blob's form.
    """
    values: dict[str, list[float]] = {}
    for name in names:
        values.setdefault(name, []).append(1.0)
    dimensions = {ENVIRONMENT_DIMENSION: environment}
    if service:
        dimensions[SERVICE_DIMENSION] = service
    blob = {
        "_aws": {
            "Timestamp": _TIMESTAMP_MARK,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(dimensions)],
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in values],
                }
            ],
        },
        **dimensions,
        "request_id": _REQUEST_ID_MARK,
        **values,
    }
    text = _COMPACT_JSON.encode(blob)
    before_timestamp, rest = text.split(_COMPACT_JSON.encode(_TIMESTAMP_MARK))
    before_request_id, after_request_id = rest.split(_COMPACT_JSON.encode(_REQUEST_ID_MARK))
    return before_timestamp, before_request_id, after_request_id
