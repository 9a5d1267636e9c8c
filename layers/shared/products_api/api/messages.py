"""Every sentence a client reads, in English, Italian and German, and the choice among them by Accept-Language.

One table per kind of sentence: the `error` sentence of each code (and of each catalogue entry that has one), the
specific sentence of each error `reason` (an id the raising code gives, with parameters), and the `details` messages
of each validation problem, pydantic's error types included, so no library wording reaches a client. Codes stay
English and stable; only sentences are translated. The catalogue (api/catalogue.py) stays the one source of each
error's status, code and metric.

Adding a language: a column in every table (a test holds every entry to every language) and its code in LANGUAGES.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from contextvars import ContextVar, Token
from typing import Any

from products_api.api.detail_sentences import DETAIL_SENTENCES, ITEM_PREFIX
from products_api.api.error_sentences import CATALOGUE_SENTENCES, CODE_SENTENCES, REASON_SENTENCES, Sentences

LANGUAGES = ("en", "it", "de")
DEFAULT_LANGUAGE = "en"


# --- rendering ---------------------------------------------------------------------------------------------------


class _Blank(dict[str, Any]):
    """format_map's mapping: a parameter the raise site did not give reads as nothing rather than failing."""

    def __missing__(self, key: str) -> str:
        return ""


def _fill(template: str, params: Mapping[str, Any]) -> str:
    return template.format_map(_Blank(params)) if params else template


def error_sentence(
    code: str,
    language: str,
    catalogue_message: str | None,
    reason: str | None,
    params: Mapping[str, Any],
    english_text: str,
) -> str:
    """The `error` sentence: the reason's, else the catalogue entry's, else (in English) the raise site's own text,
    else the code's."""
    if reason is not None and reason in REASON_SENTENCES:
        return _fill(REASON_SENTENCES[reason][language], params)
    if catalogue_message is not None:
        sentences = CATALOGUE_SENTENCES.get(catalogue_message) or CODE_SENTENCES.get(code)
        return sentences[language] if sentences is not None and language != "en" else catalogue_message
    if language == DEFAULT_LANGUAGE and english_text:
        return english_text
    sentences = CODE_SENTENCES.get(code)
    return sentences[language] if sentences is not None else CODE_SENTENCES["internal_error"][language]


def detail_sentence(reason: str, params: Mapping[str, Any], language: str, item: int | None = None) -> str:
    """One problem of a field; an unknown reason is said plainly (never in a library's words)."""
    sentences = DETAIL_SENTENCES.get(reason) or DETAIL_SENTENCES["invalid_value"]
    text = _fill(sentences[language], params)
    return _fill(ITEM_PREFIX[language], {"item": item}) + text if item is not None else text


# --- Accept-Language (RFC 9110, section 12.5.4) --------------------------------------------------------------------

# Headers longer than this are not a browser's or a client library's: English, without reading them.
_MAX_ACCEPT_LANGUAGE = 256


@functools.lru_cache(maxsize=64)
def negotiate_language(accept_language: str | None) -> str:
    """The best of LANGUAGES for an Accept-Language header: highest q first (q=0 means "not this"), a range matching
    a language by prefix (`it-IT` is `it`; `*` any language not named otherwise), ties by the header's order;
    English when nothing matches or the header cannot be read. Cached: clients send the same few headers."""
    if not accept_language or len(accept_language) > _MAX_ACCEPT_LANGUAGE:
        return DEFAULT_LANGUAGE
    best_language, best_weight = DEFAULT_LANGUAGE, 0.0
    refused: set[str] = set()
    wildcard_weight: float | None = None
    for element in accept_language.split(","):
        tag, _, parameters = element.partition(";")
        tag = tag.strip().lower()
        weight = 1.0
        parameter = parameters.strip()
        if parameter:
            name, _, value = parameter.partition("=")
            if name.strip().lower() != "q":
                continue
            try:
                weight = float(value.strip())
            except ValueError:
                continue
            if not 0.0 <= weight <= 1.0:
                continue
        if tag == "*":
            wildcard_weight = weight if wildcard_weight is None else wildcard_weight
            continue
        language = tag.split("-", 1)[0]
        if language not in LANGUAGES:
            continue
        if weight == 0.0:
            refused.add(language)
            continue
        # a later element must weigh strictly more to win: ties keep the header's order
        if weight > best_weight and language not in refused:
            best_language, best_weight = language, weight
    if wildcard_weight is not None and wildcard_weight > best_weight:
        for language in LANGUAGES:
            if language not in refused:
                return language
    if best_weight > 0.0:
        return best_language
    return DEFAULT_LANGUAGE


# The Accept-Language header of the request being answered, set around each request (observability.observed)
# so an error built deep in the service (a kept 404 or 412) speaks the client's language without every layer passing
# the header along. Only the raw header is kept: it is read only when an error is answered.
_ACCEPT_LANGUAGE: ContextVar[str | None] = ContextVar("accept_language", default=None)


def begin_request_language(accept_language: str | None) -> Token[str | None]:
    """Answer errors in `accept_language` until `end_request_language` is given the token this returns."""
    return _ACCEPT_LANGUAGE.set(accept_language)


def end_request_language(token: Token[str | None]) -> None:
    _ACCEPT_LANGUAGE.reset(token)


def current_language() -> str:
    """The language the current request's errors are answered in."""
    return negotiate_language(_ACCEPT_LANGUAGE.get())


__all__ = [
    "CATALOGUE_SENTENCES",
    "CODE_SENTENCES",
    "DEFAULT_LANGUAGE",
    "DETAIL_SENTENCES",
    "ITEM_PREFIX",
    "LANGUAGES",
    "REASON_SENTENCES",
    "Sentences",
    "begin_request_language",
    "current_language",
    "detail_sentence",
    "end_request_language",
    "error_sentence",
    "negotiate_language",
]
