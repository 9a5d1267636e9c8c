"""What the API says to a client in its language, through the real handlers on both backends: Accept-Language,
Content-Language, the credential and If-Match messages, and replays of kept errors."""

from __future__ import annotations

import uuid

import pytest
from support import EVENT_PRODUCT_ID, Api, HistoryApi


def test_patch_errors_follow_accept_language(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID)
    body = {"imageUrls": [f"https://cdn.example.com/{n}.jpg" for n in range(21)], "status": "gone"}
    answers = {
        header: api.patch(EVENT_PRODUCT_ID, body, {"Accept-Language": header})
        for header in ("de-DE,de;q=0.9", "it", "fr", "en-GB")
    }
    german = answers["de-DE,de;q=0.9"]
    assert german.status == 400
    assert german.header("Content-Language") == "de"
    assert german.header("Vary") == "Accept-Language"
    assert german.json["code"] == "validation_error"
    assert german.json["error"] == "Validierung fehlgeschlagen"
    assert german.json["details"] == [
        {"field": "imageUrls", "message": "höchstens 20 Einträge"},
        {"field": "status", "message": "muss einer der folgenden Werte sein: active, archived"},
    ]
    assert answers["it"].json["details"][0]["message"] == "al massimo 20 elementi"
    assert answers["it"].header("Content-Language") == "it"
    for header in ("fr", "en-GB"):
        assert answers[header].header("Content-Language") == "en"
        assert answers[header].json["error"] == "Validation failed"
        assert answers[header].json["details"][0]["message"] == "at most 20 items"
    assert api.stored_item(EVENT_PRODUCT_ID)["version"] == 1  # type: ignore[index]


def test_a_success_has_no_content_language(api: Api) -> None:
    """A product's text is in its own sourceLocale, not a negotiated language: no Content-Language on a 200."""
    api.add_product(EVENT_PRODUCT_ID)
    response = api.patch(EVENT_PRODUCT_ID, {}, {"Accept-Language": "de"})
    assert response.status == 200
    assert response.header("Content-Language") is None


@pytest.mark.parametrize(
    ("token", "english"),
    [
        ("tp_wrong", "Unknown or revoked API key"),
        ("tp_" + "0" * 40, "Unknown or revoked API key"),
        ("eyJhbGciOiJIUzI1NiJ9.e30.sig", "Unknown or revoked access token"),
        ("tp wrong", "Malformed Authorization header: expected `Bearer <token>`"),
    ],
)
def test_unknown_keys_are_unknown_not_malformed(api: Api, token: str, english: str) -> None:
    api.add_product(EVENT_PRODUCT_ID)
    response = api.patch(EVENT_PRODUCT_ID, {}, token=token)
    assert response.status == 401
    assert response.json["code"] == "unauthorized"
    assert response.json["error"] == english
    assert 'error="invalid_token"' in (response.header("WWW-Authenticate") or "")


def test_unknown_key_in_italian(api: Api) -> None:
    response = api.patch(EVENT_PRODUCT_ID, {}, {"Accept-Language": "it"}, token="tp_wrong")
    assert response.json["error"] == "Chiave API sconosciuta o revocata"


def test_a_weak_if_match_at_the_current_version_is_told_why(api: Api) -> None:
    api.add_product(EVENT_PRODUCT_ID, version=3)
    response = api.patch(EVENT_PRODUCT_ID, {"name": "New"}, {"If-Match": 'W/"3"'})
    assert response.status == 412
    assert response.json["code"] == "precondition_failed"
    assert "weak tag" in response.json["error"]
    assert "RFC 9110" in response.json["error"]
    assert response.header("ETag") == '"3"'
    stale = api.patch(EVENT_PRODUCT_ID, {"name": "New"}, {"If-Match": '"2"', "Accept-Language": "de"})
    assert stale.json["error"] == 'If-Match nennt nicht die aktuelle Version: das Produkt ist in Version 3 (ETag "3")'
    assert api.stored_item(EVENT_PRODUCT_ID)["version"] == 3  # type: ignore[index]


def test_idempotency_key_format_in_the_400(api: Api) -> None:
    response = api.patch(EVENT_PRODUCT_ID, {}, {"Idempotency-Key": "12345"})
    assert response.status == 400
    assert response.json["code"] == "invalid_idempotency_key"
    assert "UUID version 4" in response.json["error"]


@pytest.mark.parametrize("kept", ["404", "412"])
def test_a_kept_error_replays_as_it_was_answered(api: Api, kept: str) -> None:
    """Replays answer the kept outcome as it was (body and Content-Language), whatever the repeat's
    Accept-Language: the kept answer is one fixed response, as the contract says."""
    key = str(uuid.uuid4())
    if kept == "404":
        product_id, headers = "0" * 24, {"Idempotency-Key": key}
    else:
        api.add_product(EVENT_PRODUCT_ID)
        product_id, headers = EVENT_PRODUCT_ID, {"Idempotency-Key": key, "If-Match": '"7"'}
    first = api.patch(product_id, {"name": "X"}, {**headers, "Accept-Language": "it"})
    assert first.status == int(kept)
    assert first.header("Content-Language") == "it"
    replay = api.patch(product_id, {"name": "X"}, {**headers, "Accept-Language": "de"})
    assert replay.header("Idempotent-Replayed") == "true"
    assert replay.status == first.status
    assert replay.json == first.json
    assert replay.header("Content-Language") == "it"


def test_history_errors_follow_accept_language(history_api: HistoryApi) -> None:
    history_api.api.add_product(EVENT_PRODUCT_ID)
    response = history_api.get(EVENT_PRODUCT_ID, {"limit": "0", "sort": "x"}, {"Accept-Language": "de"})
    assert response.status == 400
    assert response.header("Content-Language") == "de"
    assert response.json["details"] == [
        {"field": "sort", "message": "ist kein bekannter Query-Parameter (bekannt: limit, cursor)"},
        {"field": "limit", "message": "muss eine ganze Zahl von 1 bis 100 sein"},
    ]
    cursor = history_api.get(EVENT_PRODUCT_ID, {"cursor": "garbage"}, {"Accept-Language": "it"})
    assert cursor.json["code"] == "invalid_cursor"
    assert cursor.json["error"].startswith("Il cursore")
