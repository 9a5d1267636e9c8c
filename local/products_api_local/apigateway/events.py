"""What API Gateway's HTTP API does around a Lambda function, as pure functions the local runner and tests share.

- `build_event`: the payload format 2.0 event API Gateway would send for an HTTP request.
- `response_from_result`: what API Gateway makes of the function's result.

Where the deployed API and the local one differ on purpose: API Gateway answers a wrong method with 404
`{"message":"Not Found"}`; locally it is 405 `{"message":"Method Not Allowed"}` with an `Allow` header, which says
more to someone trying the API. An OPTIONS request on a known path that has no OPTIONS route answers 204 with `Allow`
(the template configures no CORS, so there is no preflight answer to imitate). HEAD is a method like any other, as in
API Gateway: it needs a HEAD (or ANY) route.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from products_api_local.apigateway.routes import PAYLOAD_FORMAT_VERSION, RouteMatch

NOT_FOUND_BODY = b'{"message":"Not Found"}'
METHOD_NOT_ALLOWED_BODY = b'{"message":"Method Not Allowed"}'
INTERNAL_ERROR_BODY = b'{"message":"Internal Server Error"}'
TOO_LARGE_BODY = b'{"message":"Request Entity Too Large"}'
# HTTP API's payload limit.
MAX_REQUEST_BYTES = 10 * 1024 * 1024

# Describe the connection between the client and the gateway, which API Gateway ends: not part of the request it
# forwards.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)
# API Gateway sets these itself from the connection it accepted.
_FORWARDED = frozenset({"x-forwarded-port", "x-forwarded-proto"})
# HTTP API passes these bodies as text; every other body (no content type included) arrives base64-encoded.
_TEXT_MEDIA_TYPES = frozenset({"application/json", "application/javascript", "application/xml", "application/yaml"})
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class HttpRequest:
    method: str
    raw_path: str
    raw_query_string: str
    headers: Sequence[tuple[str, str]]  # as received: any case, repeated names kept
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class ApiGateway:
    """What API Gateway knows about itself and the connection it accepted."""

    forwarded_port: int
    forwarded_proto: str = "http"
    account_id: str = "123456789012"
    api_id: str = "local"
    stage: str = "$default"


def fold_headers(headers: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Header names lower-cased, repeated headers joined with commas, and the cookies split out, as HTTP API does."""
    folded: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        name = name.lower()
        if name == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        elif name not in _HOP_BY_HOP:
            folded[name] = f"{folded[name]},{value}" if name in folded else value
    return folded, cookies


def is_text_body(content_type: str | None) -> bool:
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return (
        media_type.startswith("text/")
        or media_type in _TEXT_MEDIA_TYPES
        or media_type.endswith("+json")
        or media_type.endswith("+xml")
    )


def format_request_time(moment: datetime) -> str:
    """API Gateway's `requestContext.time` (`09/May/2026:15:30:00 +0000`), whatever the process locale."""
    moment = moment.astimezone(UTC)
    return f"{moment:%d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000"


def build_event(
    request: HttpRequest,
    match: RouteMatch,
    gateway: ApiGateway,
    *,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway's HTTP API sends the function for this request."""
    now = now or datetime.now(UTC)
    headers, cookies = fold_headers((name, value) for name, value in request.headers if name.lower() not in _FORWARDED)
    # API Gateway appends the address it saw to whatever chain of proxies the client reported.
    forwarded_for = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded_for}, {request.source_ip}" if forwarded_for else request.source_ip
    headers["x-forwarded-port"] = str(gateway.forwarded_port)
    headers["x-forwarded-proto"] = gateway.forwarded_proto

    domain_name = _host_name(headers.get("host", "localhost"))
    event: dict[str, Any] = {
        "version": PAYLOAD_FORMAT_VERSION,
        "routeKey": match.route.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query_string,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = query_string_parameters(request.raw_query_string)
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": gateway.account_id,
        "apiId": gateway.api_id,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", 1)[0],
        "http": {
            "method": request.method.upper(),
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id or str(uuid.uuid4()),
        "routeKey": match.route.route_key,
        "stage": gateway.stage,
        "time": format_request_time(now),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    if request.body:
        text = _as_text(request.body) if is_text_body(headers.get("content-type")) else None
        if text is None:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
            event["isBase64Encoded"] = False
    else:
        event["isBase64Encoded"] = False
    return event


def query_string_parameters(raw_query_string: str) -> dict[str, str]:
    """Decoded parameters; a repeated name's values joined with commas, as HTTP API does."""
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(raw_query_string, keep_blank_values=True):
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return parameters


def _host_name(host: str) -> str:
    if host.startswith("["):  # an IPv6 literal keeps its colons
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def _as_text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


class InvalidResult(ValueError):
    """The function returned something API Gateway would answer with a 500."""


def response_from_result(result: Any) -> HttpResponse:
    """API Gateway's reading of a payload format 2.0 result.

    A dict with `statusCode` is a response. Anything else (a dict without it, a string, a number) is taken as a
    200 JSON body holding the result itself.
    """
    if not isinstance(result, Mapping) or "statusCode" not in result:
        try:
            body = json.dumps(result, separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise InvalidResult(f"the result is not JSON-serialisable: {exc}") from exc
        return HttpResponse(200, [("Content-Type", "application/json")], body)

    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise InvalidResult(f"statusCode must be an HTTP status code, got {status!r}")
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((str(name), _header_value(value)))
    for cookie in result.get("cookies") or []:
        headers.append(("Set-Cookie", str(cookie)))
    raw_body = result.get("body")
    if raw_body is None:
        body = b""
    elif not isinstance(raw_body, str):
        raise InvalidResult(f"body must be a string, got {type(raw_body).__name__}")
    elif result.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw_body, validate=True)
        except binascii.Error as exc:
            raise InvalidResult(f"isBase64Encoded is true but the body is not base64: {exc}") from exc
    else:
        body = raw_body.encode("utf-8")
    return HttpResponse(status, headers, body)


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
