"""Client messages: every sentence in English, Italian and German, chosen by Accept-Language, and no library wording
reaching a client."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import pytest
from products_api.api import catalogue, messages
from products_api.api.requests import parse_patch_request
from products_api.api.responses import error_outcome
from products_api.errors import (
    DomainError,
    FieldProblem,
    InvalidIdempotencyKey,
    ProductNotFound,
    ValidationFailed,
)
from products_api.products.preconditions import parse_if_match

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "layers" / "shared" / "products_api" / "products" / "models.py"
# What pydantic writes in its own messages; none of it may reach a client.
LIBRARY_WORDING = re.compile(
    r"Input should|should have|after validation|valid dictionary|pydantic|\bURL,|errors\.", re.I
)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def all_tables() -> list[tuple[str, str, messages.Sentences]]:
    tables: list[tuple[str, str, messages.Sentences]] = []
    for table_name, table in (
        ("CODE_SENTENCES", messages.CODE_SENTENCES),
        ("CATALOGUE_SENTENCES", messages.CATALOGUE_SENTENCES),
        ("REASON_SENTENCES", messages.REASON_SENTENCES),
        ("DETAIL_SENTENCES", messages.DETAIL_SENTENCES),
    ):
        tables += [(table_name, key, sentences) for key, sentences in table.items()]
    return [*tables, ("ITEM_PREFIX", "item", messages.ITEM_PREFIX)]


# --- every sentence in every language ----------------------------------------------------------------------------


@pytest.mark.parametrize(("table", "key", "sentences"), all_tables(), ids=lambda value: str(value)[:40])
def test_every_sentence_has_every_language_with_the_same_parameters(
    table: str, key: str, sentences: messages.Sentences
) -> None:
    assert set(sentences) == set(messages.LANGUAGES), (table, key)
    english = placeholders(sentences["en"])
    for language in messages.LANGUAGES:
        assert sentences[language].strip(), (table, key, language)
        assert placeholders(sentences[language]) == english, (table, key, language)


def test_every_error_code_has_its_sentence() -> None:
    assert catalogue.error_codes() <= set(messages.CODE_SENTENCES)


def test_every_catalogue_sentence_is_translated() -> None:
    for entry in catalogue.every_error():
        if entry.message is not None:
            assert entry.message == messages.CODE_SENTENCES[entry.code]["en"] or entry.message in (
                messages.CATALOGUE_SENTENCES
            ), entry


def test_every_custom_error_type_of_the_models_has_a_message() -> None:
    custom_types = set(re.findall(r'PydanticCustomError\(\s*"(\w+)"', MODELS.read_text(encoding="utf-8")))
    assert custom_types, "the pattern found nothing: the test would prove nothing"
    assert custom_types <= set(messages.DETAIL_SENTENCES), custom_types - set(messages.DETAIL_SENTENCES)


@pytest.mark.parametrize("language", messages.LANGUAGES)
def test_each_code_answers_in_each_language(language: str) -> None:
    for error_type, entry in catalogue.ERRORS.items():
        if issubclass(error_type, ValidationFailed):
            continue  # its details are the subject of the tests below
        try:
            exc: Exception = error_type("sample")
        except TypeError:
            continue  # errors with their own arguments are covered by the request tests
        body = json.loads(error_outcome(exc, "r", language).body)
        assert body["code"] == entry.code
        assert body["error"], entry
        if language != "en" and entry.code != "validation_error":
            assert body["error"] != messages.CODE_SENTENCES[entry.code]["en"], (language, entry.code)


# --- the request models' problems, in the project's words -------------------------------------------------------

BAD_BODIES: list[dict[str, Any]] = [
    {"name": ""},
    {"name": "x" * 201},
    {"name": 5},
    {"name": None},
    {"name": "a\u0000b"},
    {"model": True},
    {"model": "   "},
    {"description": "d" * 2001},
    {"description": 3},
    {"defaultFieldValues": []},
    {"defaultFieldValues": {"": 1}},
    {"imageUrls": "https://a.example/x.jpg"},
    {"imageUrls": [f"https://a.example/{n}.jpg" for n in range(21)]},
    {"imageUrls": [5]},
    {"imageUrls": ["ftp://a.example/x.jpg"]},
    {"imageUrls": ["http://"]},
    {"imageUrls": ["https://a.example/" + "x" * 2048]},
    {"imageUrls": ["https://a.example/x y"]},
    {"imageUrls": ["https://a.example/x", "https://a.example/x"]},
    {"status": "deleted"},
    {"status": 1},
    {"sourceLocale": "xx"},
    {"sourceLocale": 5},
    {"id": "abc"},
    {"colour": "red"},
]


def patch_event(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    return {"body": json.dumps(body), "isBase64Encoded": False}, {"content-type": "application/json"}


@pytest.mark.parametrize("body", BAD_BODIES, ids=lambda body: json.dumps(body)[:40])
@pytest.mark.parametrize("language", messages.LANGUAGES)
def test_validation_details_are_in_our_words(body: dict[str, Any], language: str) -> None:
    event, headers = patch_event(body)
    with pytest.raises(ValidationFailed) as raised:
        parse_patch_request(event, headers, "6650a1b2c3d4e5f6a7b8c9d0")
    for problem in raised.value.problems:
        for part in problem.message_parts():
            assert part.reason in messages.DETAIL_SENTENCES, part
    document = json.loads(error_outcome(raised.value, "r", language).body)
    for detail in document["details"]:
        assert not LIBRARY_WORDING.search(detail["message"]), detail
        assert detail["message"] != messages.DETAIL_SENTENCES["invalid_value"][language], detail


def test_list_length_says_at_most_20_items() -> None:
    event, headers = patch_event({"imageUrls": [f"https://a.example/{n}.jpg" for n in range(21)]})
    with pytest.raises(ValidationFailed) as raised:
        parse_patch_request(event, headers, "6650a1b2c3d4e5f6a7b8c9d0")
    by_language = {
        language: json.loads(error_outcome(raised.value, "r", language).body)["details"][0]["message"]
        for language in messages.LANGUAGES
    }
    assert by_language == {"en": "at most 20 items", "it": "al massimo 20 elementi", "de": "höchstens 20 Einträge"}


def test_item_problems_name_the_item_in_each_language() -> None:
    event, headers = patch_event({"imageUrls": ["https://a.example/x", 5]})
    with pytest.raises(ValidationFailed) as raised:
        parse_patch_request(event, headers, "6650a1b2c3d4e5f6a7b8c9d0")
    german = json.loads(error_outcome(raised.value, "r", "de").body)
    assert german["details"] == [{"field": "imageUrls", "message": "Eintrag 1: muss ein String sein"}]
    assert json.loads(error_outcome(raised.value, "r", "de").body)["error"] == "Validierung fehlgeschlagen"


def test_a_problem_without_a_reason_keeps_its_english_and_is_plain_elsewhere() -> None:
    problem = ValidationFailed([FieldProblem(field="x", message="is odd")])
    assert json.loads(error_outcome(problem, "r", "en").body)["details"][0]["message"] == "is odd"
    assert json.loads(error_outcome(problem, "r", "it").body)["details"][0]["message"] == "non è valido"


def test_an_unknown_error_says_nothing_internal_in_any_language() -> None:
    for language in messages.LANGUAGES:
        body = json.loads(error_outcome(RuntimeError("table t-123 KeyError"), "r", language).body)
        assert body["code"] == "internal_error"
        assert "KeyError" not in body["error"]
        assert body["error"] == messages.CODE_SENTENCES["internal_error"][language]


def test_error_answers_say_their_language() -> None:
    outcome = error_outcome(ProductNotFound("x"), "r", "de")
    assert outcome.headers["Content-Language"] == "de"
    assert outcome.headers["Vary"] == "Accept-Language"
    assert json.loads(outcome.body)["error"] == "Produkt nicht gefunden"


def test_idempotency_key_message_gives_the_format() -> None:
    event, headers = patch_event({})
    with pytest.raises(InvalidIdempotencyKey) as raised:
        parse_patch_request(event, {**headers, "idempotency-key": "not-a-uuid"}, "6650a1b2c3d4e5f6a7b8c9d0")
    for language in messages.LANGUAGES:
        text = json.loads(error_outcome(raised.value, "r", language).body)["error"]
        assert "UUID" in text
        assert re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", text), text


@pytest.mark.parametrize("language", messages.LANGUAGES)
def test_weak_if_match_at_the_current_version_says_weak_tags_never_match(language: str) -> None:
    failure = parse_if_match('W/"3"').failure(3, '"3"')
    text = json.loads(error_outcome(failure, "r", language).body)["error"]
    assert 'W/"3"' in text
    assert "RFC 9110" in text
    # at another version it is simply stale
    stale = parse_if_match('W/"3"').failure(4, '"4"')
    assert json.loads(error_outcome(stale, "r", language).body)["error"] == messages.REASON_SENTENCES["stale_version"][
        language
    ].format(version=4)


def test_reasons_raised_are_known() -> None:
    """Every reason the shared package raises with is in the tables (a typo would answer the code's sentence)."""
    package = ROOT / "layers" / "shared" / "products_api"
    raised = set()
    for path in package.rglob("*.py"):
        raised |= set(re.findall(r'reason="(\w+)"', path.read_text(encoding="utf-8")))
    assert raised, "the pattern found nothing"
    known = set(messages.REASON_SENTENCES) | set(messages.DETAIL_SENTENCES)
    assert raised <= known, raised - known


def test_domain_errors_default_to_no_reason() -> None:
    assert DomainError("x").reason is None
    assert dict(DomainError("x").params) == {}


# --- Accept-Language ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("it", "it"),
        ("it-IT", "it"),
        ("IT-it", "it"),
        ("de-CH, fr;q=0.9", "de"),
        ("de;q=0.9, en;q=0.1", "de"),
        ("en;q=0.1, de;q=0.9", "de"),
        ("fr, it;q=0.5, de;q=0.4", "it"),
        ("fr-FR, es", "en"),
        ("*", "en"),
        ("en;q=0, *", "it"),
        ("fr, *;q=0.1", "en"),
        ("it;q=0, de;q=0, *", "en"),
        ("it;q=0.5, de;q=0.5", "it"),
        ("de;q=1.5, it", "it"),
        ("de;q=abc, it;q=0.2", "it"),
        (";;;,,,==", "en"),
        ("\u00e9\u00e8, de", "de"),
        ("de;level=1", "en"),
        ("x" * 300 + ", de", "en"),
    ],
)
def test_accept_language(header: str | None, language: str) -> None:
    assert messages.negotiate_language(header) == language


def test_the_request_language_applies_inside_its_context_only() -> None:
    assert messages.current_language() == "en"
    token = messages.begin_request_language("de-DE")
    try:
        assert messages.current_language() == "de"
        assert json.loads(error_outcome(ProductNotFound("x"), "r").body)["error"] == "Produkt nicht gefunden"
    finally:
        messages.end_request_language(token)
    assert messages.current_language() == "en"
