"""The local runner's side of API Gateway, without HTTP: events, routes, results and the functions' configuration.

`events/*.json` are rebuilt from their HTTP parts by the builder the runner uses, so the files and what the runner
sends cannot drift apart.
"""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gateway_support import PRODUCT_PATH, ROUTES, TEMPLATE, event_with_headers, local_event, request
from products_api_local.apigateway.events import (
    ApiGateway,
    HttpRequest,
    build_event,
    format_request_time,
)
from products_api_local.apigateway.routes import (
    Route,
    RouteError,
    RouteMatch,
    RouteMiss,
    RouteTable,
    routes_from_template,
)
from support import http_event_files


def title_case(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


# --- events/*.json -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", http_event_files(), ids=lambda path: path.stem)
def test_event_file_is_what_the_runner_builds(path: Path) -> None:
    expected = json.loads(path.read_text())
    context = expected["requestContext"]
    # The client's headers, in the case a client writes them; API Gateway adds the x-forwarded-* ones itself.
    sent_headers = [
        (title_case(name), value) for name, value in expected["headers"].items() if not name.startswith("x-forwarded-")
    ]
    http_request = HttpRequest(
        method=context["http"]["method"],
        raw_path=expected["rawPath"],
        raw_query_string=expected["rawQueryString"],
        headers=sent_headers,
        # what the client sent: a binary body (multipart) is in the file base64-encoded, as API Gateway passes it
        body=base64.b64decode(expected["body"])
        if expected["isBase64Encoded"]
        else expected.get("body", "").encode("utf-8"),
        source_ip=context["http"]["sourceIp"],
        protocol=context["http"]["protocol"],
    )
    gateway = ApiGateway(
        forwarded_port=int(expected["headers"]["x-forwarded-port"]),
        forwarded_proto=expected["headers"]["x-forwarded-proto"],
        account_id=context["accountId"],
        api_id=context["apiId"],
        stage=context["stage"],
    )
    match = ROUTES.match(http_request.method, http_request.raw_path)
    assert isinstance(match, RouteMatch)

    event = build_event(
        http_request,
        match,
        gateway,
        request_id=context["requestId"],
        now=datetime.fromtimestamp(context["timeEpoch"] / 1000, UTC),
    )

    # The fields the handler reads, one by one for a readable failure, then the whole event.
    for key in ("version", "routeKey", "rawPath", "rawQueryString", "headers", "pathParameters", "body"):
        assert event.get(key) == expected.get(key), key
    assert event["isBase64Encoded"] is expected["isBase64Encoded"]
    assert event["requestContext"]["http"] == context["http"]
    assert event["requestContext"]["stage"] == context["stage"]
    assert event == expected


def test_every_event_file_matches_a_template_route() -> None:
    paths = http_event_files()
    assert paths
    for path in paths:
        event = json.loads(path.read_text())
        match = ROUTES.match(event["requestContext"]["http"]["method"], event["rawPath"])
        assert isinstance(match, RouteMatch), path.name
        assert match.route.route_key == event["routeKey"]


# --- the event builder ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "name", "value"),
    [
        (
            [("IDEMPOTENCY-KEY", "0b5c3f4e-6a1d-4c2b-9e8f-7a6b5c4d3e2f")],
            "idempotency-key",
            "0b5c3f4e-6a1d-4c2b-9e8f-7a6b5c4d3e2f",
        ),
        ([("Accept", "application/json"), ("accept", "text/plain")], "accept", "application/json,text/plain"),
        ([("X-Custom", "a"), ("x-CUSTOM", "b")], "x-custom", "a,b"),
    ],
    ids=["upper-case", "repeated", "repeated-in-mixed-case"],
)
def test_header_names_are_lower_cased_and_repeats_joined_with_commas(
    sent: list[tuple[str, str]], name: str, value: str
) -> None:
    headers = event_with_headers(("Host", "127.0.0.1:3000"), *sent)["headers"]
    assert all(sent_name == sent_name.lower() for sent_name in headers)
    assert headers[name] == value


def test_cookies_move_from_the_headers_to_cookies() -> None:
    event = event_with_headers(("Cookie", "a=1; b=2"), ("cookie", "c=3"))
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert "cookie" not in event["headers"]
    assert "cookies" not in local_event(request())


def test_gateway_sets_forwarding_headers_and_drops_hop_by_hop_ones() -> None:
    event = event_with_headers(
        ("Connection", "keep-alive"),
        ("X-Forwarded-For", "198.51.100.7"),
        ("X-Forwarded-Proto", "https"),
        ("Host", "127.0.0.1:3000"),
    )
    headers = event["headers"]
    assert "connection" not in headers
    assert headers["x-forwarded-for"] == "198.51.100.7, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-port"] == "3000"
    assert event["requestContext"]["domainName"] == "127.0.0.1"


def test_query_string_is_kept_raw_and_decoded_into_parameters() -> None:
    event = local_event(request(query="a=1&a=2&b=x%20y&flag&c=%E2%82%AC"))
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y&flag&c=%E2%82%AC"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y", "flag": "", "c": "\u20ac"}
    assert "queryStringParameters" not in local_event(request())


def test_path_parameters_come_from_the_template_route() -> None:
    event = local_event(request(path="/api/v1/products/6650A1B2C3D4E5F6A7B8C9D0"))
    assert event["routeKey"] == "PATCH /api/v1/products/{id}"
    assert event["requestContext"]["routeKey"] == "PATCH /api/v1/products/{id}"
    assert event["pathParameters"] == {"id": "6650A1B2C3D4E5F6A7B8C9D0"}
    # Percent-encoding is decoded in the parameter, kept in rawPath.
    encoded = local_event(request(path="/api/v1/products/a%20b"))
    assert encoded["pathParameters"] == {"id": "a b"}
    assert encoded["rawPath"] == "/api/v1/products/a%20b"


@pytest.mark.parametrize(
    ("content_type", "body", "as_text"),
    [
        ("application/json", b'{"name":"x"}', True),
        ("application/json; charset=utf-8", '{"name":"\u00e9"}'.encode(), True),
        ("application/merge-patch+json", b"{}", True),
        ("text/plain", b"hello", True),
        ("application/octet-stream", b"\x00\x01\xff", False),
        ("application/x-www-form-urlencoded", b"a=1", False),
        (None, b'{"name":"x"}', False),
        # Not UTF-8, whatever the header claims: only base64 carries it intact.
        ("application/json", b'{"name":"\xff"}', False),
    ],
)
def test_body_is_text_or_base64(content_type: str | None, body: bytes, as_text: bool) -> None:
    headers = [("Content-Type", content_type)] if content_type else []
    event = local_event(request(headers=headers, body=body))
    assert event["isBase64Encoded"] is not as_text
    if as_text:
        assert event["body"] == body.decode("utf-8")
    else:
        assert base64.b64decode(event["body"]) == body


def test_empty_body_is_absent() -> None:
    event = event_with_headers(("Content-Type", "application/json"))
    assert "body" not in event
    assert event["isBase64Encoded"] is False


def test_request_context_time_and_fresh_request_ids() -> None:
    moment = datetime(2026, 5, 9, 15, 30, 0, 123000, tzinfo=UTC)
    assert format_request_time(moment) == "09/May/2026:15:30:00 +0000"
    first, second = local_event(request()), local_event(request())
    assert first["requestContext"]["requestId"] != second["requestContext"]["requestId"]
    assert first["requestContext"]["stage"] == "$default"
    assert abs(first["requestContext"]["timeEpoch"] / 1000 - datetime.now(UTC).timestamp()) < 60


# --- routes ----------------------------------------------------------------------------------------------


def test_template_routes() -> None:
    assert ROUTES.routes == [
        Route("PATCH", "/api/v1/products/{id}", "UpdateProductFunction"),
        Route("GET", "/api/v1/products/{id}/history", "GetProductHistoryFunction"),
        Route("GET", "/api/v1/usage", "GetUsageFunction"),
        Route("GET", "/api/v1/products/{id}", "GetProductsFunction"),
        Route("GET", "/api/v1/products", "GetProductsFunction"),
        Route("POST", "/api/v1/products/{id}/images", "ProductImagesFunction"),
        Route("POST", "/api/v1/products/{id}/images/uploads", "ProductImagesFunction"),
        Route("GET", "/api/v1/products/{id}/images/uploads/{uploadId}", "ProductImagesFunction"),
    ]


def test_history_path_selects_the_history_function() -> None:
    match = ROUTES.match("GET", PRODUCT_PATH + "/history")
    assert isinstance(match, RouteMatch)
    assert match.route.function == "GetProductHistoryFunction"
    assert match.path_parameters == {"id": "6650a1b2c3d4e5f6a7b8c9d0"}
    assert ROUTES.match("PATCH", PRODUCT_PATH + "/history") == RouteMiss(("GET",))


@pytest.mark.parametrize(
    "path",
    ["/", "/nope", "/api/v1/items", "/api/v1/products/", "/api/v1/products/x/y", "/API/v1/products/x"],
)
def test_unknown_path_is_404(path: str) -> None:
    assert ROUTES.match("PATCH", path) == RouteMiss(())


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD", "OPTIONS"])
def test_known_path_with_another_method_is_405_with_the_allowed_ones(method: str) -> None:
    assert ROUTES.match(method, PRODUCT_PATH) == RouteMiss(("GET", "PATCH"))
    assert ROUTES.match(method, "/api/v1/products") == RouteMiss(("GET",))


def test_the_product_path_reads_with_get_and_updates_with_patch() -> None:
    for method, function in (("GET", "GetProductsFunction"), ("PATCH", "UpdateProductFunction")):
        match = ROUTES.match(method, PRODUCT_PATH)
        assert isinstance(match, RouteMatch)
        assert match.route.function == function


def test_method_is_case_insensitive_in_matching() -> None:
    assert isinstance(ROUTES.match("patch", PRODUCT_PATH), RouteMatch)


def test_most_specific_route_wins() -> None:
    table = RouteTable(
        [
            Route("GET", "/pets/dog/1", "Exact"),
            Route("GET", "/pets/dog/{id}", "Param"),
            Route("GET", "/pets/{proxy+}", "Greedy"),
            Route("ANY", "/pets/dog/{id}", "AnyParam"),
            Route("ANY", "$default", "Default"),
        ]
    )

    def function(method: str, path: str) -> str:
        match = table.match(method, path)
        assert isinstance(match, RouteMatch), (method, path)
        return match.route.function

    assert function("GET", "/pets/dog/1") == "Exact"
    assert function("GET", "/pets/dog/2") == "Param"
    assert function("POST", "/pets/dog/2") == "AnyParam"
    assert function("GET", "/pets/cat/1/2") == "Greedy"
    greedy = table.match("GET", "/pets/cat/a%2Fb/c")
    assert isinstance(greedy, RouteMatch) and greedy.path_parameters == {"proxy": "cat/a/b/c"}
    assert function("DELETE", "/anything") == "Default"


def test_invalid_routes_are_refused() -> None:
    with pytest.raises(RouteError, match="more than once"):
        RouteTable([Route("GET", "/a", "F"), Route("GET", "/a", "G")])
    with pytest.raises(RouteError, match="greedy"):
        RouteTable([Route("GET", "/{proxy+}/a", "F")])
    template = copy.deepcopy(TEMPLATE)
    events = template["Resources"]["UpdateProductFunction"]["Properties"]["Events"]
    events["PatchProduct"]["Properties"]["PayloadFormatVersion"] = "1.0"
    with pytest.raises(RouteError, match=r"PayloadFormatVersion 1\.0"):
        routes_from_template(template)
