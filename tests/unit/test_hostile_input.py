"""A corpus of hostile bodies and headers: each gets the contract's 4xx with a clear message, and the stored
product is exactly as it was."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from support import EVENT_PRODUCT_ID, EVENT_TOKEN, Api

KIB = 1024


@dataclass(frozen=True)
class Hostile:
    name: str
    body: str | bytes
    status: int
    code: str
    headers: dict[str, str | None] = field(default_factory=dict)
    token: str | None = EVENT_TOKEN
    product_id: str = EVENT_PRODUCT_ID


def _nest(depth: int) -> str:
    """A body `depth` objects deep in all, the body itself counting as the first."""
    return '{"defaultFieldValues": ' + '{"k": ' * (depth - 2) + "{}" + "}" * (depth - 2) + "}"


# The requests below differ from a good one in one header or the path's id: a body that would be accepted.
_GOOD_BODY = '{"name": "x"}'


def _media_type(name: str, content_type: str | None, body: str = _GOOD_BODY) -> Hostile:
    """A body sent as a media type the API does not take (None: no Content-Type at all)."""
    return Hostile(name, body, 415, "unsupported_media_type", {"content-type": content_type})


def _product_id(name: str, product_id: str) -> Hostile:
    return Hostile(name, _GOOD_BODY, 400, "invalid_id", product_id=product_id)


def _idempotency_key(name: str, key: str) -> Hostile:
    return Hostile(name, _GOOD_BODY, 400, "invalid_idempotency_key", {"idempotency-key": key})


def _if_match(name: str, value: str) -> Hostile:
    return Hostile(name, _GOOD_BODY, 412, "precondition_failed", {"if-match": value})


def _authorization(name: str, value: str | None) -> Hostile:
    """No token of the seeded credential: `value` is the whole Authorization header (None: no header)."""
    return Hostile(name, _GOOD_BODY, 401, "unauthorized", {} if value is None else {"authorization": value}, token=None)


WRONG_TYPES = {
    "name": [1, True, [], {}, 1.5],
    "model": [1, False, ["m"], {"m": 1}],
    "description": [1, True, [], {}],
    "defaultFieldValues": ["x", 1, True, []],
    "imageUrls": ["https://a.example/x.jpg", 1, {}, [1], [None], [["https://a.example"]]],
    "status": [1, True, [], {}, "Active", ""],
    "sourceLocale": [1, True, [], "", "e", "english", "EN-us", "zz"],
}

CORPUS: list[Hostile] = [
    # bodies that are not one JSON object
    Hostile("invalid utf-8", b'{"name": "\xc3\x28"}', 400, "invalid_json"),
    Hostile("overlong utf-8", b'{"name": "\xc0\xaf"}', 400, "invalid_json"),
    Hostile("utf-16 body", '{"name": "x"}'.encode("utf-16"), 400, "invalid_json"),
    Hostile("latin-1 body", '{"name": "café"}'.encode("latin-1"), 400, "invalid_json"),
    Hostile("byte order mark", b'\xef\xbb\xbf{"name": "x"}', 400, "invalid_json"),
    Hostile("empty body", "", 400, "invalid_json"),
    Hostile("whitespace body", "  \n ", 400, "invalid_json"),
    Hostile("truncated", '{"name": "x"', 400, "invalid_json"),
    Hostile("trailing comma", '{"name": "x",}', 400, "invalid_json"),
    Hostile("single quotes", "{'name': 'x'}", 400, "invalid_json"),
    Hostile("comment", '{"name": "x" /* c */}', 400, "invalid_json"),
    Hostile("two documents", '{"name": "x"}{"name": "y"}', 400, "invalid_json"),
    Hostile("nul after object", '{"name": "x"}\u0000', 400, "invalid_json"),
    Hostile("array", '[{"name": "x"}]', 400, "invalid_json"),
    Hostile("string", '"name"', 400, "invalid_json"),
    Hostile("number", "1", 400, "invalid_json"),
    Hostile("true", "true", 400, "invalid_json"),
    Hostile("null", "null", 400, "invalid_json"),
    Hostile("duplicate top-level key", '{"name": "a", "name": "a"}', 400, "invalid_json"),
    Hostile("duplicate nested key", '{"defaultFieldValues": {"a": {"b": 1, "b": 2}}}', 400, "invalid_json"),
    Hostile("NaN", '{"defaultFieldValues": {"x": NaN}}', 400, "invalid_json"),
    Hostile("Infinity", '{"defaultFieldValues": {"x": Infinity}}', 400, "invalid_json"),
    Hostile("-Infinity", '{"defaultFieldValues": {"x": [-Infinity]}}', 400, "invalid_json"),
    Hostile("lone surrogate", '{"name": "\\udc00x"}', 400, "invalid_json"),
    Hostile("lone surrogate key", '{"defaultFieldValues": {"\\ud800": 1}}', 400, "invalid_json"),
    Hostile("raw control character in string", '{"name": "a\u0001b"}', 400, "invalid_json"),
    Hostile("nesting 64 deep", _nest(64), 400, "validation_error"),
    Hostile("nesting 65 deep", _nest(65), 400, "invalid_json"),
    Hostile("nesting 10000 deep", '{"a": ' + "[" * 10000 + "]" * 10000 + "}", 400, "invalid_json"),
    # sizes
    Hostile("300 KiB body", json.dumps({"description": "x" * 300 * KIB}), 413, "payload_too_large"),
    Hostile("300 KiB of whitespace", "{" + " " * 300 * KIB + "}", 413, "payload_too_large"),
    Hostile("huge name", json.dumps({"name": "n" * 200 * KIB}), 400, "validation_error"),
    Hostile("huge key", json.dumps({"k" * 200 * KIB: 1}), 400, "validation_error"),
    Hostile("huge default values", json.dumps({"defaultFieldValues": {"v": "x" * 200 * KIB}}), 400, "validation_error"),
    # numbers
    Hostile("1e400", '{"defaultFieldValues": {"x": 1e400}}', 400, "validation_error"),
    Hostile("1e-400", '{"defaultFieldValues": {"x": 1e-400}}', 400, "validation_error"),
    Hostile("5000-digit integer", '{"defaultFieldValues": {"x": ' + "7" * 5000 + "}}", 400, "validation_error"),
    Hostile(
        "39 significant digits",
        '{"defaultFieldValues": {"x": 1.23456789012345678901234567890123456789}}',
        400,
        "validation_error",
    ),
    Hostile("number as name", '{"name": 12345}', 400, "validation_error"),
    # control characters where a single line is expected
    Hostile("newline in name", json.dumps({"name": "a\nb"}), 400, "validation_error"),
    Hostile("escape in model", json.dumps({"model": "m\u001b[31m"}), 400, "validation_error"),
    Hostile("nul in description", json.dumps({"description": "a\u0000b"}), 400, "validation_error"),
    Hostile("DEL in name", json.dumps({"name": "a\u007fb"}), 400, "validation_error"),
    Hostile("C1 control in name", json.dumps({"name": "a\u0085b"}), 400, "validation_error"),
    Hostile("javascript url", json.dumps({"imageUrls": ["javascript:alert(1)"]}), 400, "validation_error"),
    Hostile("data url", json.dumps({"imageUrls": ["data:image/png;base64,AAAA"]}), 400, "validation_error"),
    Hostile("file url", json.dumps({"imageUrls": ["file:///etc/passwd"]}), 400, "validation_error"),
    Hostile("url with newline", json.dumps({"imageUrls": ["https://a.example/x\n.jpg"]}), 400, "validation_error"),
    Hostile("prototype pollution key", json.dumps({"__proto__": {"admin": True}}), 400, "validation_error"),
    Hostile("read-only version", json.dumps({"version": 99}), 400, "validation_error"),
    Hostile("read-only companyId", json.dumps({"companyId": "GLOBEX"}), 400, "validation_error"),
    # content types
    _media_type("no content type", None),
    _media_type("form content type", "application/x-www-form-urlencoded", "name=x"),
    _media_type("text/json", "text/json"),
    _media_type("json-ish suffix", "application/jsonx"),
    _media_type("utf-16 charset", "application/json; charset=utf-16"),
    _media_type("multipart", "multipart/form-data; boundary=b", "--b\r\n\r\n--b--"),
    # ids
    _product_id("short id", "6650a1b2"),
    _product_id("long id", "6650a1b2c3d4e5f6a7b8c9d0ff"),
    _product_id("non-hex id", "6650a1b2c3d4e5f6a7b8c9zz"),
    _product_id("uuid id", "0b5c3f4e-6a1d-4c2b-9e8f-7a6b5c4d3e2f"),
    _product_id("encoded traversal id", "..%2F..%2Fetc%2Fpasswd00000"),
    _product_id("unicode digits id", "\u0666\u0666\u0665\u0660a1b2c3d4e5f6a7b8c9d0"),
    # idempotency keys
    _idempotency_key("uuid v1 key", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
    _idempotency_key("uuid without dashes", "0b5c3f4e6a1d4c2b9e8f7a6b5c4d3e2f"),
    _idempotency_key("braced uuid", "{0b5c3f4e-6a1d-4c2b-9e8f-7a6b5c4d3e2f}"),
    _idempotency_key("huge key", "a" * 10000),
    _idempotency_key("two keys", "0b5c3f4e-6a1d-4c2b-9e8f-7a6b5c4d3e2f,0b5c3f4e-6a1d-4c2b-9e8f-7a6b5c4d3e2f"),
    # If-Match
    _if_match("unquoted if-match", "1"),
    _if_match("half-quoted if-match", '"1'),
    _if_match("weak if-match", 'W/"1"'),
    _if_match("negative if-match", '"-1"'),
    _if_match("huge if-match", '"' + "9" * 5000 + '"'),
    _if_match("many if-match tags", ", ".join(['"7"'] * 100)),
    _if_match("empty if-match", ""),
    # bearer tokens of odd shapes
    _authorization("no authorization", None),
    _authorization("empty bearer", "Bearer "),
    _authorization("basic auth", "Basic YTpi"),
    _authorization("two tokens", f"Bearer {EVENT_TOKEN} {EVENT_TOKEN}"),
    _authorization("token with quotes", f'Bearer "{EVENT_TOKEN}"'),
    _authorization("unicode token", "Bearer tp_ünïcødé_token_0000000000"),
    _authorization("10 KB token", "Bearer tp_" + "a" * 10000),
    _authorization("token of another case", f"Bearer {EVENT_TOKEN.upper()}"),
    _authorization("token prefix only", "Bearer tp_"),
    _authorization("sql-ish token", "Bearer ' OR '1'='1"),
]

CORPUS += [
    Hostile(f"{name} as {json.dumps(value)[:20]}", json.dumps({name: value}), 400, "validation_error")
    for name, values in WRONG_TYPES.items()
    for value in values
]


# Every case is refused before any write is attempted, so moto's speed is enough to prove "nothing changed";
# the same refusals on DynamoDB Local are covered by test_patch_contract.py.
@pytest.mark.parametrize("backend", ["moto"], indirect=True)
@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_hostile_request_is_refused_and_changes_nothing(api: Api, case: Hostile) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="LI-48V-20AH")
    before = api.all_items()
    response = api.patch(case.product_id, case.body, case.headers, token=case.token)  # type: ignore[arg-type]
    assert response.status == case.status, response.body
    body: dict[str, Any] = response.json
    assert body["code"] == case.code
    assert isinstance(body["error"], str)
    assert len(body["error"]) > 10, "a sentence a developer can act on"
    if case.code == "validation_error":
        assert body["details"]
        assert all(detail["message"] for detail in body["details"])
    assert api.all_items() == before
    assert api.idempotency_records() == []
