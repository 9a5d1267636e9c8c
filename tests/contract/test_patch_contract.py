"""The API reference (docs/api.md) rule by rule, through the real handler, on moto and on DynamoDB Local."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from support import EVENT_PRODUCT_ID, EVENT_TOKEN, Api, ApiResponse, FakeContext

OTHER_TOKEN = "tp_other_company_token_000000000000000000"
READ_ONLY_TOKEN = "tp_read_only_token_0000000000000000000000"


def assert_error(response: ApiResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, response.body
    body = response.json
    assert body["code"] == code, body
    assert isinstance(body["error"], str) and body["error"]
    assert body["requestId"]
    assert response.header("Content-Type") == "application/json"
    if code != "validation_error":
        assert "details" not in body
    return dict(body)


def details_by_field(response: ApiResponse) -> dict[str, str]:
    body = assert_error(response, 400, "validation_error")
    assert body["error"] == "Validation failed"
    fields = [detail["field"] for detail in body["details"]]
    assert len(fields) == len(set(fields)), "one entry per field"
    return {detail["field"]: detail["message"] for detail in body["details"]}


@pytest.fixture
def product(api: Api) -> Any:
    return api.add_product(EVENT_PRODUCT_ID, model="LI-48V-20AH")


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


# --- authentication -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer short", "Bearer tp_" + "x" * 40, "tp_" + "x" * 40],
)
def test_unauthorized(api: Api, product: Any, authorization: str | None) -> None:
    headers = {"authorization": authorization}
    response = api.patch(product.id, {"name": "x"}, headers, token=None)  # type: ignore[arg-type]
    assert_error(response, 401, "unauthorized")
    assert (response.header("WWW-Authenticate") or "").startswith("Bearer")
    assert api.stored_item(product.id)["name"] == product.name  # type: ignore[index]


def test_bearer_scheme_is_case_insensitive(api: Api, product: Any) -> None:
    assert api.patch(product.id, {"name": "x"}, {"authorization": f"bearer {EVENT_TOKEN}"}, token=None).status == 200


def test_revoked_and_expired_credentials(api: Api, product: Any) -> None:
    revoked, expired = "tp_revoked_token_000000000000000000000000", "tp_expired_token_000000000000000000000000"
    api.add_credential(revoked, revoked=True)
    api.add_credential(expired, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    body = assert_error(api.patch(product.id, {"name": "x"}, token=revoked), 401, "unauthorized")
    assert "revoked" in body["error"]
    body = assert_error(api.patch(product.id, {"name": "x"}, token=expired), 401, "unauthorized")
    assert "expired" in body["error"]


def test_oauth_access_token(api: Api, product: Any) -> None:
    token = "Xy3_oauth-access.token~0000000000000000"
    api.add_credential(token, kind="oauth")
    assert api.patch(product.id, {"name": "x"}, token=token).status == 200


def test_credential_without_write_scope_is_forbidden(api: Api, product: Any) -> None:
    api.add_credential(READ_ONLY_TOKEN, scopes=("products:read",))
    response = api.patch(product.id, {"name": "x"}, token=READ_ONLY_TOKEN)
    assert_error(response, 403, "insufficient_scope")
    assert 'scope="products:write"' in (response.header("WWW-Authenticate") or "")


def test_authentication_comes_before_anything_else(api: Api) -> None:
    response = api.patch("not-an-id", "not json", {"content-type": "text/plain"}, token=None)
    assert_error(response, 401, "unauthorized")


def test_another_companys_product_is_not_found(api: Api, product: Any) -> None:
    api.add_credential(OTHER_TOKEN, company_id="GLOBEX")
    before = api.stored_item(product.id)
    body = assert_error(api.patch(product.id, {"name": "stolen"}, token=OTHER_TOKEN), 404, "not_found")
    assert body["error"] == "Product not found"
    assert api.stored_item(product.id) == before
    assert api.stored_item(product.id, company_id="GLOBEX") is None


def test_unknown_product_is_not_found_and_not_created(api: Api) -> None:
    missing = "aaaaaaaaaaaaaaaaaaaaaaaa"
    assert_error(api.patch(missing, {"name": "x"}), 404, "not_found")
    assert_error(api.patch(missing, {}), 404, "not_found")
    assert_error(api.patch(missing, {"model": "NEW"}), 404, "not_found")
    assert api.all_items() == []


# --- model uniqueness -----------------------------------------------------------------------------


def test_duplicate_model_in_the_same_company(api: Api, product: Any) -> None:
    other = api.add_product(model="TAKEN-1")
    before = api.stored_item(product.id)
    for spelling in ("TAKEN-1", "taken-1", " Taken-1 "):
        body = assert_error(api.patch(product.id, {"model": spelling, "name": "x"}), 409, "duplicate_model")
        assert body["error"] == "A product with this model already exists for your company"
    assert api.stored_item(product.id) == before
    assert api.model_locks() == {"MODEL#li-48v-20ah": product.id, "MODEL#taken-1": other.id}


def test_model_is_compared_after_nfc_and_case_folding(api: Api, product: Any) -> None:
    api.add_product(model="STRASSE-\u00c9")  # É precomposed
    decomposed = "strasse-E\u0301"  # E + combining acute
    assert_error(api.patch(product.id, {"model": decomposed}), 409, "duplicate_model")
    assert_error(api.patch(product.id, {"model": "STRAßE-é"}), 409, "duplicate_model")


def test_same_model_in_another_company_is_fine(api: Api, product: Any) -> None:
    api.add_product(company_id="GLOBEX", model="SHARED")
    response = api.patch(product.id, {"model": "SHARED"})
    assert response.status == 200
    assert response.json["model"] == "SHARED"


def test_rename_frees_the_old_model_at_once(api: Api, product: Any) -> None:
    other = api.add_product(model="OTHER-1")
    assert api.patch(product.id, {"model": "RENAMED"}).status == 200
    response = api.patch(other.id, {"model": "LI-48V-20AH"})
    assert response.status == 200, response.body
    assert api.model_locks() == {"MODEL#renamed": product.id, "MODEL#li-48v-20ah": other.id}


def test_case_only_rename_keeps_the_lock_and_the_clients_spelling(api: Api, product: Any) -> None:
    response = api.patch(product.id, {"model": "li-48v-20ah", "name": "lower"})
    assert response.status == 200, response.body
    assert response.json["model"] == "li-48v-20ah"
    assert response.json["version"] == 2
    assert api.model_locks() == {"MODEL#li-48v-20ah": product.id}


def test_archived_products_keep_their_model(api: Api, product: Any) -> None:
    archived = api.add_product(model="OLD-MODEL", status="archived")
    assert_error(api.patch(product.id, {"model": "old-model"}), 409, "duplicate_model")
    assert api.stored_item(archived.id) is not None


# --- If-Match -------------------------------------------------------------------------------------


@pytest.mark.parametrize("if_match", ['"1"', "*", 'W/"0", "1"', '"7", "1"'])
def test_if_match_that_matches(api: Api, product: Any, if_match: str) -> None:
    assert api.patch(product.id, {"name": "x"}, {"If-Match": if_match}).status == 200


@pytest.mark.parametrize("body", [{"name": "x"}, {"model": "NEW-M"}, {}, {"model": "li-48v-20ah"}])
@pytest.mark.parametrize("if_match", ['"2"', 'W/"1"', '"abc"', "1", "garbage"])
def test_stale_or_malformed_if_match_is_refused(api: Api, product: Any, body: dict[str, Any], if_match: str) -> None:
    before = api.stored_item(product.id)
    response = api.patch(product.id, body, {"If-Match": if_match})
    assert_error(response, 412, "precondition_failed")
    assert api.stored_item(product.id) == before
    assert api.model_locks() == {"MODEL#li-48v-20ah": product.id}


def test_precondition_failure_tells_the_current_etag(api: Api, product: Any) -> None:
    api.patch(product.id, {"name": "v2"})
    response = api.patch(product.id, {"name": "stale"}, {"If-Match": '"1"'})
    assert_error(response, 412, "precondition_failed")
    assert response.header("ETag") == '"2"'
    assert api.patch(product.id, {"name": "fresh"}, {"If-Match": response.header("ETag") or ""}).status == 200


def test_if_match_on_a_missing_product_is_not_found(api: Api) -> None:
    assert_error(api.patch("bbbbbbbbbbbbbbbbbbbbbbbb", {"name": "x"}, {"If-Match": '"1"'}), 404, "not_found")


# --- idempotency ----------------------------------------------------------------------------------


def test_replay_returns_the_kept_outcome_and_writes_nothing(api: Api, product: Any) -> None:
    key = str(uuid.uuid4())
    first = api.patch(product.id, {"name": "Once", "status": "archived"}, {"Idempotency-Key": key})
    assert first.status == 200 and first.header("Idempotent-Replayed") is None
    stored = api.stored_item(product.id)
    replay = api.patch(product.id, '{ "status" : "archived",\n "name": "Once" }', {"idempotency-key": key})
    assert replay.status == 200
    assert replay.header("Idempotent-Replayed") == "true"
    assert replay.body == first.body
    assert replay.header("ETag") == first.header("ETag") == '"2"'
    assert api.stored_item(product.id) == stored


def test_idempotency_key_header_in_any_case(api: Api, product: Any) -> None:
    key = str(uuid.uuid4())
    first = api.patch(product.id, {"name": "x"}, {"IDEMPOTENCY-KEY": key.upper()})
    replay = api.patch(product.id, {"name": "x"}, {"idempotency-key": key})
    assert replay.header("Idempotent-Replayed") == "true"
    assert replay.body == first.body


def test_equal_bodies_match_whatever_the_number_spelling(api: Api, product: Any) -> None:
    key = str(uuid.uuid4())
    first = api.patch(product.id, '{"defaultFieldValues": {"v": 1.0}}', {"Idempotency-Key": key})
    replay = api.patch(product.id, '{"defaultFieldValues": {"v": 1}}', {"Idempotency-Key": key})
    assert first.status == 200 and replay.header("Idempotent-Replayed") == "true"


@pytest.mark.parametrize(
    "second",
    [
        {"body": {"name": "Different"}},
        {"product": "other"},
    ],
)
def test_same_key_with_another_body_or_product_is_refused(api: Api, product: Any, second: dict[str, Any]) -> None:
    other = api.add_product(model="SECOND")
    key = str(uuid.uuid4())
    assert api.patch(product.id, {"name": "First"}, {"Idempotency-Key": key}).status == 200
    target = other.id if second.get("product") else product.id
    before = api.stored_item(target)
    response = api.patch(target, second.get("body", {"name": "First"}), {"Idempotency-Key": key})
    assert_error(response, 422, "idempotency_key_reused")
    assert api.stored_item(target) == before


def test_keys_are_scoped_to_the_company(api: Api, product: Any) -> None:
    api.add_credential(OTHER_TOKEN, company_id="GLOBEX")
    theirs = api.add_product(company_id="GLOBEX", model="G-1")
    key = str(uuid.uuid4())
    assert api.patch(product.id, {"name": "ours"}, {"Idempotency-Key": key}).status == 200
    response = api.patch(theirs.id, {"name": "theirs"}, {"Idempotency-Key": key}, token=OTHER_TOKEN)
    assert response.status == 200 and response.header("Idempotent-Replayed") is None
    assert response.json["name"] == "theirs"


@pytest.mark.parametrize("kept", ["not_found", "duplicate_model", "precondition_failed"])
def test_error_outcomes_that_are_kept(api: Api, product: Any, kept: str) -> None:
    taken = api.add_product(model="TAKEN")
    target, body, headers = {
        "not_found": ("cccccccccccccccccccccccc", {"name": "x"}, {}),
        "duplicate_model": (product.id, {"model": "TAKEN"}, {}),
        "precondition_failed": (product.id, {"name": "x"}, {"If-Match": '"9"'}),
    }[kept]
    key = str(uuid.uuid4())
    first = api.patch(target, body, {**headers, "Idempotency-Key": key})
    assert first.json["code"] == kept
    if kept == "precondition_failed":
        api.patch(product.id, {"name": "moves to v2"})
        headers = {"If-Match": '"2"'}  # would now match: the kept outcome still wins
    if kept == "duplicate_model":
        api.patch(taken.id, {"model": "FREED"})  # the model is free now: the kept outcome still wins
    replay = api.patch(target, body, {**headers, "Idempotency-Key": key})
    assert replay.status == first.status
    assert replay.body == first.body
    assert replay.header("Idempotent-Replayed") == "true"


@pytest.mark.parametrize(
    ("body", "headers", "token"),
    [
        ("not json", {}, EVENT_TOKEN),
        ({"name": ""}, {}, EVENT_TOKEN),
        ({"name": "x"}, {"content-type": "text/plain"}, EVENT_TOKEN),
        ({"name": "x"}, {}, "tp_unknown_token_00000000000000000000000"),
    ],
)
def test_rejected_requests_are_not_kept(api: Api, product: Any, body: Any, headers: dict[str, str], token: str) -> None:
    key = str(uuid.uuid4())
    assert api.patch(product.id, body, {**headers, "Idempotency-Key": key}, token=token).status in {400, 401, 415}
    assert api.idempotency_records() == []
    response = api.patch(product.id, {"name": "fixed"}, {"Idempotency-Key": key})
    assert response.status == 200 and response.header("Idempotent-Replayed") is None


class _Crash(BaseException):
    """Stands for the Lambda runtime killing the function mid-request (not an Exception Powertools catches)."""


def test_in_flight_request_answers_409_then_expires_with_the_function_time_limit(
    api: Api, product: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = str(uuid.uuid4())
    updater = api.runtime.patch_service._updater

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise _Crash

    with monkeypatch.context() as patched:
        patched.setattr(updater, "update", crash)
        with pytest.raises(_Crash):
            api.patch(product.id, {"name": "x"}, {"Idempotency-Key": key}, context=FakeContext(remaining_ms=60_000))
    in_flight = api.patch(product.id, {"name": "x"}, {"Idempotency-Key": key})
    assert_error(in_flight, 409, "idempotency_in_progress")
    assert in_flight.header("Retry-After") == "1"
    assert api.stored_item(product.id)["version"] == 1  # type: ignore[index]

    # A request whose function time ran out leaves a lock that is already expired: the retry runs.
    other_key = str(uuid.uuid4())
    with monkeypatch.context() as patched:
        patched.setattr(updater, "update", crash)
        with pytest.raises(_Crash):
            api.patch(product.id, {"name": "y"}, {"Idempotency-Key": other_key}, context=FakeContext(remaining_ms=-1))
    retry = api.patch(product.id, {"name": "y"}, {"Idempotency-Key": other_key})
    assert retry.status == 200, retry.body
    assert retry.header("Idempotent-Replayed") is None
    assert retry.json["version"] == 2


def test_idempotency_record_expires_after_24_hours(api: Api, product: Any) -> None:
    api.patch(product.id, {"name": "x"}, {"Idempotency-Key": str(uuid.uuid4())})
    (record,) = api.idempotency_records()
    lifetime = int(record["expiration"]) - datetime.now(UTC).timestamp()
    assert 24 * 3600 - 60 < lifetime <= 24 * 3600
    assert record["id"].startswith("products-api#patch-product#")
