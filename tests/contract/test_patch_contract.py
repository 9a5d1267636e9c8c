"""The API reference (docs/api.md) rule by rule, through the real handler, on moto and on DynamoDB Local."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from support import Api, assert_error, details_by_field

OTHER_TOKEN = "tp_other_company_token_000000000000000000"
READ_ONLY_TOKEN = "tp_read_only_token_0000000000000000000000"


# --- 200 and the response shape ------------------------------------------------------------------


def test_patch_changes_only_the_keys_sent(api: Api, product: Any) -> None:
    response = api.patch(
        product.id, {"name": "Li-Ion 48V Battery Pack (revised)", "imageUrls": ["https://cdn.example.com/new.jpg"]}
    )
    assert response.status == 200, response.body
    body = response.json
    assert list(body) == [
        "_id",
        "name",
        "model",
        "description",
        "defaultFieldValues",
        "imageUrls",
        "status",
        "sourceLocale",
        "version",
        "createdAt",
        "updatedAt",
    ]
    assert body["_id"] == product.id
    assert body["name"] == "Li-Ion 48V Battery Pack (revised)"
    assert body["imageUrls"] == ["https://cdn.example.com/new.jpg"]
    assert body["model"] == product.model
    assert body["description"] == product.description
    assert body["defaultFieldValues"] == product.default_field_values
    assert body["version"] == 2
    assert body["createdAt"] == "2026-05-01T09:00:00.000Z"
    assert body["updatedAt"] != "2026-05-02T09:00:00.000Z"
    assert datetime.strptime(body["updatedAt"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) > datetime(
        2026, 5, 2, tzinfo=UTC
    )
    assert response.header("ETag") == '"2"'
    assert response.header("Content-Type") == "application/json"
    stored = api.stored_item(product.id)
    assert stored is not None
    assert stored["name"] == body["name"] and stored["version"] == 2


def test_each_write_adds_one_to_version(api: Api, product: Any) -> None:
    versions = [api.patch(product.id, {"status": status}).json["version"] for status in ("archived", "active")]
    assert versions == [2, 3]


def test_empty_patch_writes_nothing_and_answers_the_product(api: Api, product: Any) -> None:
    before = api.stored_item(product.id)
    response = api.patch(product.id, {})
    assert response.status == 200
    assert response.json["version"] == 1
    assert response.header("ETag") == '"1"'
    assert api.stored_item(product.id) == before


def test_empty_patch_is_no_write(api: Api, product: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """`{}` reads the product: no write id is drawn for it, and the patches around it still get one each."""
    from products_api.products import service

    drawn: list[str] = []
    real_uuid4 = uuid.uuid4

    def counting_uuid4() -> uuid.UUID:
        value = real_uuid4()
        drawn.append(value.hex)
        return value

    # the service's own look-up only: the harness draws request ids from the same module
    monkeypatch.setattr(service, "uuid", SimpleNamespace(uuid4=counting_uuid4))
    assert api.patch(product.id, {}).status == 200
    assert drawn == []
    assert api.patch(product.id, {"name": "Then a write"}).status == 200
    assert api.patch(product.id, {}).json["name"] == "Then a write"
    stored = api.stored_item(product.id)
    assert stored is not None and len(drawn) == 1 and stored["writeId"] == drawn[0]


def test_name_and_model_are_trimmed(api: Api, product: Any) -> None:
    body = api.patch(product.id, {"name": "  Pack  ", "model": "\tNEW-MODEL \n"}).json
    assert (body["name"], body["model"]) == ("Pack", "NEW-MODEL")


def test_description_null_clears_and_omission_keeps(api: Api, product: Any) -> None:
    assert api.patch(product.id, {"name": "x"}).json["description"] == "Original description"
    response = api.patch(product.id, {"description": None})
    assert response.status == 200
    assert response.json["description"] is None
    stored = api.stored_item(product.id)
    assert stored is not None and "description" not in stored


def test_default_field_values_and_image_urls_are_replaced_not_merged(api: Api, product: Any) -> None:
    body = api.patch(product.id, {"defaultFieldValues": {"voltage": 48}, "imageUrls": []}).json
    assert body["defaultFieldValues"] == {"voltage": 48}
    assert body["imageUrls"] == []
    assert api.patch(product.id, {"defaultFieldValues": {}}).json["defaultFieldValues"] == {}


def test_numbers_are_kept_exactly(api: Api, product: Any) -> None:
    raw = (
        '{"defaultFieldValues": {"tenth": 0.1, "digits38": 12345678901234567890123456789012345678,'
        ' "tiny": 1E-130, "huge": 9.99E+125, "negative": -273.15, "nested": {"list": [0.30000000000000004, 7]}}}'
    )
    response = api.patch(product.id, raw, {"content-type": "application/json"})
    assert response.status == 200, response.body
    values = response.json["defaultFieldValues"]
    assert values["tenth"] == Decimal("0.1")
    assert '"tenth":0.1' in response.body
    assert values["digits38"] == Decimal("12345678901234567890123456789012345678")
    assert values["tiny"] == Decimal("1E-130")
    assert values["huge"] == Decimal("9.99E+125")
    assert values["negative"] == Decimal("-273.15")
    assert values["nested"]["list"] == [Decimal("0.30000000000000004"), 7]
    stored = api.stored_item(product.id)
    assert stored is not None
    assert stored["defaultFieldValues"]["digits38"] == Decimal("12345678901234567890123456789012345678")


def test_source_locale_is_case_insensitive_and_stored_lower_case(api: Api, product: Any) -> None:
    assert api.patch(product.id, {"sourceLocale": "DE"}).json["sourceLocale"] == "de"
    stored = api.stored_item(product.id)
    assert stored is not None and stored["sourceLocale"] == "de"


def test_product_id_is_case_insensitive(api: Api, product: Any) -> None:
    response = api.patch(product.id.upper(), {"name": "upper"})
    assert response.status == 200
    assert response.json["_id"] == product.id


def test_charset_parameter_is_accepted(api: Api, product: Any) -> None:
    response = api.patch(product.id, {"name": "x"}, {"content-type": "application/json; charset=UTF-8"})
    assert response.status == 200


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"name": ""}, "name", "at least 1"),
        ({"name": "   "}, "name", "at least 1"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"name": None}, "name", "must not be null"),
        ({"name": 5}, "name", "string"),
        ({"name": "a\u0000b"}, "name", "control"),
        ({"model": ""}, "model", "at least 1"),
        ({"model": "m" * 101}, "model", "at most 100"),
        ({"model": None}, "model", "must not be null"),
        ({"description": "d" * 2001}, "description", "at most 2000"),
        ({"description": 3}, "description", "string"),
        ({"defaultFieldValues": None}, "defaultFieldValues", "must not be null"),
        ({"defaultFieldValues": []}, "defaultFieldValues", "must be an object"),
        ({"defaultFieldValues": {"blob": "x" * (33 * 1024)}}, "defaultFieldValues", "32768 bytes"),
        ({"defaultFieldValues": {"": 1}}, "defaultFieldValues", "must not be empty"),
        ({"defaultFieldValues": {"a": [{"b": {"": None}}]}}, "defaultFieldValues", "must not be empty"),
        ({"imageUrls": None}, "imageUrls", "must not be null"),
        ({"imageUrls": "https://a.example/x.jpg"}, "imageUrls", "must be an array"),
        ({"imageUrls": [f"https://cdn.example.com/{n}.jpg" for n in range(21)]}, "imageUrls", "at most 20"),
        ({"imageUrls": ["ftp://cdn.example.com/a.jpg"]}, "imageUrls", "http or https"),
        ({"imageUrls": ["/relative.jpg"]}, "imageUrls", "http or https"),
        ({"imageUrls": ["https:cdn.example.com/a.jpg"]}, "imageUrls", "http or https"),
        ({"imageUrls": ["https:/cdn.example.com/a.jpg"]}, "imageUrls", "http or https"),
        ({"imageUrls": ["https://cdn.example.com/" + "a" * 2040]}, "imageUrls", "at most 2048"),
        ({"imageUrls": ["https://a.example/1.jpg", "https://a.example/1.jpg"]}, "imageUrls", "repeats"),
        ({"imageUrls": ["https://a.example/a b.jpg"]}, "imageUrls", "whitespace"),
        ({"status": "deleted"}, "status", "must be one of: active, archived"),
        ({"status": "ACTIVE"}, "status", "must be one of: active, archived"),
        ({"status": None}, "status", "must not be null"),
        ({"sourceLocale": "xx"}, "sourceLocale", "ISO 639-1 language code"),
        ({"sourceLocale": "eng"}, "sourceLocale", "ISO 639-1 language code"),
        ({"sourceLocale": None}, "sourceLocale", "must not be null"),
        ({"color": "red"}, "color", "not a known field"),
    ],
)
def test_field_rules(api: Api, product: Any, body: dict[str, Any], field: str, fragment: str) -> None:
    before = api.stored_item(product.id)
    problems = details_by_field(api.patch(product.id, body))
    assert list(problems) == [field]
    assert fragment in problems[field]
    assert api.stored_item(product.id) == before


def test_default_field_values_depth_limit(api: Api, product: Any) -> None:
    sixteen: dict[str, Any] = {}
    for _ in range(15):
        sixteen = {"k": sixteen}
    assert api.patch(product.id, {"defaultFieldValues": sixteen}).status == 200
    problems = details_by_field(api.patch(product.id, {"defaultFieldValues": {"k": sixteen}}))
    assert "16 levels" in problems["defaultFieldValues"]


def test_unstorable_numbers_are_refused(api: Api, product: Any) -> None:
    raw = '{"defaultFieldValues": {"n": 123456789012345678901234567890123456789}}'
    problems = details_by_field(api.patch(product.id, raw))
    assert "38 significant digits" in problems["defaultFieldValues"]


@pytest.mark.parametrize("field", ["_id", "id", "createdAt", "updatedAt", "version", "companyId"])
def test_read_only_keys_say_so(api: Api, product: Any, field: str) -> None:
    problems = details_by_field(api.patch(product.id, {field: "x", "name": "ok"}))
    assert problems == {field: "is read-only and cannot be changed"}


def test_every_problem_is_reported_at_once(api: Api, product: Any) -> None:
    before = api.stored_item(product.id)
    problems = details_by_field(
        api.patch(
            product.id,
            {"name": "", "imageUrls": ["nope", "https://ok.example/a.jpg", "ftp://x"], "status": "x", "version": 9},
        )
    )
    assert set(problems) == {"name", "imageUrls", "status", "version"}
    assert "item 0" in problems["imageUrls"] and "item 2" in problems["imageUrls"]
    assert api.stored_item(product.id) == before


# --- request framing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not json",
        "[]",
        '"text"',
        "42",
        "null",
        '{"name": "a"',
        '{"name": "a", "name": "b"}',
        '{"defaultFieldValues": {"x": 1, "x": 2}}',
        '{"defaultFieldValues": {"x": NaN}}',
        '{"defaultFieldValues": {"x": Infinity}}',
        '{"defaultFieldValues": {"x": -Infinity}}',
        '{"name": "\\ud800"}',
        '{"a": 1} {"b": 2}',
    ],
)
def test_body_that_is_not_one_json_object(api: Api, product: Any, raw: str) -> None:
    before = api.stored_item(product.id)
    assert_error(api.patch(product.id, raw), 400, "invalid_json")
    assert api.stored_item(product.id) == before


def test_invalid_utf8_is_invalid_json(api: Api, product: Any) -> None:
    assert_error(api.patch(product.id, b'{"name": "\xff\xfe"}'), 400, "invalid_json")


def test_duplicate_member_names_are_named(api: Api, product: Any) -> None:
    body = assert_error(api.patch(product.id, '{"name": "a", "name": "b"}'), 400, "invalid_json")
    assert '"name"' in body["error"]


@pytest.mark.parametrize("raw_id", ["123", "6650a1b2c3d4e5f6a7b8c9dz", "6650a1b2c3d4e5f6a7b8c9d0aa", "x" * 24])
def test_invalid_product_id(api: Api, raw_id: str) -> None:
    assert_error(api.patch(raw_id, {"name": "x"}), 400, "invalid_id")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml", "application/json; charset=latin-1"])
def test_unsupported_media_type(api: Api, product: Any, content_type: str | None) -> None:
    response = api.patch(product.id, {"name": "x"}, {"content-type": content_type})  # type: ignore[dict-item]
    assert_error(response, 415, "unsupported_media_type")
    assert api.stored_item(product.id)["name"] == product.name  # type: ignore[index]


def test_payload_too_large(api: Api, product: Any) -> None:
    body = json.dumps({"description": "x" * (256 * 1024)})
    assert_error(api.patch(product.id, body), 413, "payload_too_large")


def test_body_of_exactly_the_limit_is_read(api: Api, product: Any) -> None:
    padding = 256 * 1024 - len('{"name": "x", "defaultFieldValues": {}}')
    body = '{"name": "x", "defaultFieldValues": {}}' + " " * padding
    assert len(body.encode()) == 256 * 1024
    assert api.patch(product.id, body).status == 200


@pytest.mark.parametrize("key", ["abc", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", str(uuid.uuid4()) + "x", ""])
def test_idempotency_key_must_be_a_uuid4(api: Api, product: Any, key: str) -> None:
    assert_error(api.patch(product.id, {"name": "x"}, {"Idempotency-Key": key}), 400, "invalid_idempotency_key")
    assert api.idempotency_records() == []
