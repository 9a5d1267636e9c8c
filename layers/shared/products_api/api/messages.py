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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

LANGUAGES = ("en", "it", "de")
DEFAULT_LANGUAGE = "en"

Sentences = Mapping[str, str]


# --- the `error` sentence of each code: what a client reads when nothing more specific applies -------------------

CODE_SENTENCES: Mapping[str, Sentences] = {
    "invalid_id": {
        "en": "Product id must be a 24-character hexadecimal ObjectId",
        "it": "L'id del prodotto deve essere un ObjectId esadecimale di 24 caratteri",
        "de": "Die Produkt-ID muss eine hexadezimale ObjectId aus 24 Zeichen sein",
    },
    "invalid_json": {
        "en": "The body is not one valid JSON object",
        "it": "Il corpo non è un singolo oggetto JSON valido",
        "de": "Der Body ist kein einzelnes gültiges JSON-Objekt",
    },
    "validation_error": {
        "en": "Validation failed",
        "it": "Validazione non riuscita",
        "de": "Validierung fehlgeschlagen",
    },
    "invalid_idempotency_key": {
        "en": "Idempotency-Key must be a UUID version 4, such as 3f1c2a9e-8b7d-4c6e-9a1f-2b3c4d5e6f70",
        "it": "Idempotency-Key deve essere un UUID versione 4, ad esempio 3f1c2a9e-8b7d-4c6e-9a1f-2b3c4d5e6f70",
        "de": "Idempotency-Key muss eine UUID der Version 4 sein, zum Beispiel 3f1c2a9e-8b7d-4c6e-9a1f-2b3c4d5e6f70",
    },
    "invalid_cursor": {
        "en": "The cursor is not one this API handed out: send the nextCursor of the previous page as is",
        "it": "Il cursore non è stato emesso da questa API: inviate il nextCursor della pagina precedente così com'è",
        "de": "Der Cursor stammt nicht von dieser API: senden Sie den nextCursor der vorigen Seite unverändert",
    },
    "unauthorized": {
        "en": "No valid credential: send `Authorization: Bearer <token>`",
        "it": "Nessuna credenziale valida: inviate `Authorization: Bearer <token>`",
        "de": "Keine gültigen Zugangsdaten: senden Sie `Authorization: Bearer <token>`",
    },
    "insufficient_scope": {
        "en": "This credential lacks the scope this operation needs",
        "it": "Questa credenziale non ha lo scope richiesto da questa operazione",
        "de": "Diesen Zugangsdaten fehlt der Scope, den dieser Vorgang braucht",
    },
    "not_found": {
        "en": "Product not found",
        "it": "Prodotto non trovato",
        "de": "Produkt nicht gefunden",
    },
    "duplicate_model": {
        "en": "A product with this model already exists for your company",
        "it": "Esiste già un prodotto con questo modello per la vostra azienda",
        "de": "Für Ihr Unternehmen gibt es bereits ein Produkt mit diesem Modell",
    },
    "idempotency_in_progress": {
        "en": "A request with this Idempotency-Key is still being processed",
        "it": "Una richiesta con questa Idempotency-Key è ancora in corso",
        "de": "Eine Anfrage mit diesem Idempotency-Key wird noch verarbeitet",
    },
    "concurrent_update": {
        "en": "The product is being changed by other requests; nothing was written, retry shortly",
        "it": "Il prodotto viene modificato da altre richieste; nulla è stato scritto, riprovate tra poco",
        "de": "Das Produkt wird gerade von anderen Anfragen geändert; nichts wurde geschrieben, bitte gleich erneut",
    },
    "precondition_failed": {
        "en": "If-Match does not name the product's current version",
        "it": "If-Match non indica la versione attuale del prodotto",
        "de": "If-Match nennt nicht die aktuelle Version des Produkts",
    },
    "payload_too_large": {
        "en": "The body is too large",
        "it": "Il corpo è troppo grande",
        "de": "Der Body ist zu groß",
    },
    "unsupported_media_type": {
        "en": "Send the body as JSON with `Content-Type: application/json`",
        "it": "Inviate il corpo come JSON con `Content-Type: application/json`",
        "de": "Senden Sie den Body als JSON mit `Content-Type: application/json`",
    },
    "idempotency_key_reused": {
        "en": "This Idempotency-Key was used with a different request (body, product or method)",
        "it": "Questa Idempotency-Key è stata usata con una richiesta diversa (corpo, prodotto o metodo)",
        "de": "Dieser Idempotency-Key wurde für eine andere Anfrage verwendet (Body, Produkt oder Methode)",
    },
    "rate_limited": {
        "en": "Too many writes for your company: retry after Retry-After seconds",
        "it": "Troppe scritture per la vostra azienda: riprovate dopo Retry-After secondi",
        "de": "Zu viele Schreibvorgänge für Ihr Unternehmen: nach Retry-After Sekunden erneut versuchen",
    },
    "quota_exceeded": {
        "en": "Your company's writes this month reached its plan's quota",
        "it": "Le scritture di questo mese della vostra azienda hanno raggiunto la quota del piano",
        "de": "Die Schreibvorgänge Ihres Unternehmens in diesem Monat haben das Kontingent des Tarifs erreicht",
    },
    "invalid_image": {
        "en": "The file is not a JPEG, PNG or WebP image, or it is damaged",
        "it": "Il file non è un'immagine JPEG, PNG o WebP, oppure è danneggiato",
        "de": "Die Datei ist kein JPEG-, PNG- oder WebP-Bild, oder sie ist beschädigt",
    },
    "too_many_images": {
        "en": "The product already has 20 images, the most allowed; nothing was appended",
        "it": "Il prodotto ha già 20 immagini, il massimo consentito; nulla è stato aggiunto",
        "de": "Das Produkt hat bereits 20 Bilder, das erlaubte Maximum; nichts wurde angehängt",
    },
    "unavailable": {
        "en": "The service is temporarily unavailable; nothing was written",
        "it": "Il servizio è temporaneamente non disponibile; nulla è stato scritto",
        "de": "Der Dienst ist vorübergehend nicht verfügbar; nichts wurde geschrieben",
    },
    "internal_error": {
        "en": "Internal server error",
        "it": "Errore interno del server",
        "de": "Interner Serverfehler",
    },
}

# The catalogue's own `error` sentences (ApiError.message), where two entries of one code say different things.
CATALOGUE_SENTENCES: Mapping[str, Sentences] = {
    "Other requests kept changing this product while this one retried; nothing was written, retry shortly": (
        CODE_SENTENCES["concurrent_update"]
    ),
    "Upload not found": {
        "en": "Upload not found",
        "it": "Caricamento non trovato",
        "de": "Upload nicht gefunden",
    },
}


# --- the sentence of each reason an error is raised with (DomainError.reason), `{name}` filled from its params ----

REASON_SENTENCES: Mapping[str, Sentences] = {
    "content_type_missing": CODE_SENTENCES["unsupported_media_type"],
    "content_type_unsupported": {
        "en": "Content-Type {media_type} is not supported: send application/json",
        "it": "Content-Type {media_type} non è supportato: inviate application/json",
        "de": "Content-Type {media_type} wird nicht unterstützt: senden Sie application/json",
    },
    "charset_unsupported": {
        "en": "The body must be UTF-8 (charset=utf-8)",
        "it": "Il corpo deve essere in UTF-8 (charset=utf-8)",
        "de": "Der Body muss UTF-8 sein (charset=utf-8)",
    },
    "body_too_large": {
        "en": "The body is {size} bytes; at most {max} are accepted",
        "it": "Il corpo è di {size} byte; se ne accettano al massimo {max}",
        "de": "Der Body hat {size} Bytes; höchstens {max} werden angenommen",
    },
    "if_match_too_many": {
        "en": "If-Match may name at most {max} entity tags",
        "it": "If-Match può indicare al massimo {max} entity tag",
        "de": "If-Match darf höchstens {max} Entity-Tags nennen",
    },
    "if_match_malformed": {
        "en": 'If-Match must be "*" or entity tags from an ETag header, such as "4" in quotes',
        "it": 'If-Match deve essere "*" oppure entity tag presi da un header ETag, come "4" tra virgolette',
        "de": 'If-Match muss "*" oder Entity-Tags aus einem ETag-Header sein, etwa "4" in Anführungszeichen',
    },
    "stale_version": {
        "en": 'If-Match does not name the current version: the product is at version {version} (ETag "{version}")',
        "it": 'If-Match non indica la versione attuale: il prodotto è alla versione {version} (ETag "{version}")',
        "de": 'If-Match nennt nicht die aktuelle Version: das Produkt ist in Version {version} (ETag "{version}")',
    },
    "weak_if_match": {
        "en": 'If-Match compares strongly (RFC 9110): a weak tag such as W/"{version}" never matches; send the ETag '
        'as the API gave it ("{version}")',
        "it": 'If-Match usa il confronto forte (RFC 9110): un tag debole come W/"{version}" non corrisponde mai; '
        "inviate l'ETag così come l'API l'ha dato (\"{version}\")",
        "de": 'If-Match vergleicht stark (RFC 9110): ein schwaches Tag wie W/"{version}" passt nie; senden Sie das '
        'ETag so, wie die API es geliefert hat ("{version}")',
    },
    "authorization_missing": {
        "en": "Missing Authorization header: send `Authorization: Bearer <token>`",
        "it": "Header Authorization mancante: inviate `Authorization: Bearer <token>`",
        "de": "Authorization-Header fehlt: senden Sie `Authorization: Bearer <token>`",
    },
    "authorization_malformed": {
        "en": "Malformed Authorization header: expected `Bearer <token>`",
        "it": "Header Authorization non valido: atteso `Bearer <token>`",
        "de": "Ungültiger Authorization-Header: erwartet wird `Bearer <token>`",
    },
    "api_key_unknown": {
        "en": "Unknown or revoked API key",
        "it": "Chiave API sconosciuta o revocata",
        "de": "Unbekannter oder widerrufener API-Schlüssel",
    },
    "token_unknown": {
        "en": "Unknown or revoked access token",
        "it": "Access token sconosciuto o revocato",
        "de": "Unbekanntes oder widerrufenes Access-Token",
    },
    "credential_revoked": {
        "en": "This credential was revoked",
        "it": "Questa credenziale è stata revocata",
        "de": "Diese Zugangsdaten wurden widerrufen",
    },
    "credential_expired": {
        "en": "This credential has expired",
        "it": "Questa credenziale è scaduta",
        "de": "Diese Zugangsdaten sind abgelaufen",
    },
    "insufficient_scope": {
        "en": "This credential lacks the {scope} scope",
        "it": "Questa credenziale non ha lo scope {scope}",
        "de": "Diesen Zugangsdaten fehlt der Scope {scope}",
    },
    "cursor_not_ours": CODE_SENTENCES["invalid_cursor"],
    "cursor_other_product": {
        "en": "The cursor belongs to another product's history",
        "it": "Il cursore appartiene alla cronologia di un altro prodotto",
        "de": "Der Cursor gehört zum Verlauf eines anderen Produkts",
    },
    "cursor_other_status": {
        "en": "The cursor was handed out for another status filter: send the same status with it",
        "it": "Il cursore è stato emesso per un altro filtro status: inviatelo con lo stesso status",
        "de": "Der Cursor wurde für einen anderen status-Filter ausgegeben: senden Sie ihn mit demselben status",
    },
}


# --- the `details[].message` of each validation problem, by reason or pydantic error type -----------------------

DETAIL_SENTENCES: Mapping[str, Sentences] = {
    # the request's own checks
    "unknown_field": {
        "en": "is not a known field",
        "it": "non è un campo conosciuto",
        "de": "ist kein bekanntes Feld",
    },
    "read_only_field": {
        "en": "is read-only and cannot be changed",
        "it": "è di sola lettura e non può essere modificato",
        "de": "ist schreibgeschützt und kann nicht geändert werden",
    },
    "unknown_query_parameter": {
        "en": "is not a known query parameter (known: {known})",
        "it": "non è un parametro di query conosciuto (conosciuti: {known})",
        "de": "ist kein bekannter Query-Parameter (bekannt: {known})",
    },
    "limit_range": {
        "en": "must be a whole number from 1 to {max}",
        "it": "deve essere un numero intero da 1 a {max}",
        "de": "muss eine ganze Zahl von 1 bis {max} sein",
    },
    "length_range": {
        "en": "must be {min} to {max} characters once trimmed",
        "it": "deve avere da {min} a {max} caratteri, spazi iniziali e finali esclusi",
        "de": "muss ohne führende und folgende Leerzeichen {min} bis {max} Zeichen lang sein",
    },
    "cursor_with_model": {
        "en": "cannot be combined with model: a model names at most one product",
        "it": "non può essere combinato con model: un modello indica al massimo un prodotto",
        "de": "kann nicht mit model kombiniert werden: ein Modell nennt höchstens ein Produkt",
    },
    "not_storable": {
        "en": "a value in the body cannot be stored",
        "it": "un valore del corpo non può essere memorizzato",
        "de": "ein Wert im Body kann nicht gespeichert werden",
    },
    "enum": {
        "en": "must be one of: {expected}",
        "it": "deve essere uno tra: {expected}",
        "de": "muss einer der folgenden Werte sein: {expected}",
    },
    # pydantic's error types the request models can produce, in the project's words
    "missing": {"en": "is required", "it": "è obbligatorio", "de": "ist erforderlich"},
    "extra_forbidden": {
        "en": "is not a known field",
        "it": "non è un campo conosciuto",
        "de": "ist kein bekanntes Feld",
    },
    "string_type": {"en": "must be a string", "it": "deve essere una stringa", "de": "muss ein String sein"},
    "string_too_short": {
        "en": "must be at least {min_length} characters",
        "it": "deve avere almeno {min_length} caratteri",
        "de": "muss mindestens {min_length} Zeichen lang sein",
    },
    "string_too_long": {
        "en": "must be at most {max_length} characters",
        "it": "deve avere al massimo {max_length} caratteri",
        "de": "darf höchstens {max_length} Zeichen lang sein",
    },
    "string_pattern_mismatch": {
        "en": "has a form that is not accepted",
        "it": "ha una forma non accettata",
        "de": "hat eine nicht zulässige Form",
    },
    "list_type": {"en": "must be an array", "it": "deve essere un array", "de": "muss ein Array sein"},
    "dict_type": {"en": "must be an object", "it": "deve essere un oggetto", "de": "muss ein Objekt sein"},
    "too_short": {
        "en": "at least {min_length} items",
        "it": "almeno {min_length} elementi",
        "de": "mindestens {min_length} Einträge",
    },
    "too_long": {
        "en": "at most {max_length} items",
        "it": "al massimo {max_length} elementi",
        "de": "höchstens {max_length} Einträge",
    },
    "literal_error": {
        "en": "must be one of: {expected}",
        "it": "deve essere uno tra: {expected}",
        "de": "muss einer der folgenden Werte sein: {expected}",
    },
    "enum_error": {
        "en": "must be one of: {expected}",
        "it": "deve essere uno tra: {expected}",
        "de": "muss einer der folgenden Werte sein: {expected}",
    },
    "bool_type": {"en": "must be true or false", "it": "deve essere true o false", "de": "muss true oder false sein"},
    "int_type": {
        "en": "must be a whole number",
        "it": "deve essere un numero intero",
        "de": "muss eine ganze Zahl sein",
    },
    "language_alpha2": {
        "en": "must be an ISO 639-1 language code (two letters, such as en)",
        "it": "deve essere un codice lingua ISO 639-1 (due lettere, come it)",
        "de": "muss ein ISO-639-1-Sprachcode sein (zwei Buchstaben, etwa de)",
    },
    "url_parsing": {
        "en": "must be an absolute http or https URL",
        "it": "deve essere un URL http o https assoluto",
        "de": "muss eine absolute http- oder https-URL sein",
    },
    "url_type": {
        "en": "must be an absolute http or https URL",
        "it": "deve essere un URL http o https assoluto",
        "de": "muss eine absolute http- oder https-URL sein",
    },
    # the request models' own checks (PydanticCustomError types in products/models.py)
    "null_not_allowed": {"en": "must not be null", "it": "non può essere null", "de": "darf nicht null sein"},
    "control_character": {
        "en": "must not contain control characters",
        "it": "non deve contenere caratteri di controllo",
        "de": "darf keine Steuerzeichen enthalten",
    },
    "invisible_character": {
        "en": "must not contain control, format or line/paragraph separator characters (found U+{code})",
        "it": "non deve contenere caratteri di controllo, di formato o separatori di riga/paragrafo (trovato U+{code})",
        "de": "darf keine Steuer-, Format- oder Zeilen-/Absatztrennzeichen enthalten (gefunden: U+{code})",
    },
    "url_too_long": {
        "en": "must be at most {max} characters",
        "it": "deve avere al massimo {max} caratteri",
        "de": "darf höchstens {max} Zeichen lang sein",
    },
    "url_scheme": {
        "en": "must be an absolute http or https URL (http://… or https://…)",
        "it": "deve essere un URL http o https assoluto (http://… o https://…)",
        "de": "muss eine absolute http- oder https-URL sein (http://… oder https://…)",
    },
    "url_whitespace": {
        "en": "must not contain whitespace or control characters",
        "it": "non deve contenere spazi o caratteri di controllo",
        "de": "darf keine Leer- oder Steuerzeichen enthalten",
    },
    "duplicate_url": {
        "en": "item {position} repeats {url}",
        "it": "l'elemento {position} ripete {url}",
        "de": "Eintrag {position} wiederholt {url}",
    },
    "too_deep": {
        "en": "must be at most {max} levels deep",
        "it": "può avere al massimo {max} livelli di annidamento",
        "de": "darf höchstens {max} Ebenen tief sein",
    },
    "empty_member_name": {
        "en": "member names must not be empty",
        "it": "i nomi dei membri non possono essere vuoti",
        "de": "Mitgliedsnamen dürfen nicht leer sein",
    },
    "number_range": {
        "en": "number {number} cannot be stored exactly: at most 38 significant digits, magnitude from 1E-130 to "
        "9.99E+125, no digit below 1E-165",
        "it": "il numero {number} non può essere memorizzato esattamente: al massimo 38 cifre significative, "
        "grandezza da 1E-130 a 9.99E+125, nessuna cifra sotto 1E-165",
        "de": "die Zahl {number} kann nicht exakt gespeichert werden: höchstens 38 signifikante Stellen, Betrag von "
        "1E-130 bis 9.99E+125, keine Stelle unter 1E-165",
    },
    "too_large": {
        "en": "must be at most {max} bytes once serialised (got {size})",
        "it": "deve occupare al massimo {max} byte una volta serializzato (sono {size})",
        "de": "darf serialisiert höchstens {max} Bytes groß sein (es sind {size})",
    },
    # a problem of a type this table does not know: said plainly rather than in a library's words
    "invalid_value": {"en": "is not valid", "it": "non è valido", "de": "ist nicht gültig"},
}

ITEM_PREFIX: Sentences = {"en": "item {item}: ", "it": "elemento {item}: ", "de": "Eintrag {item}: "}


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


# The Accept-Language header of the request being answered, set around each request (observability.observed_request)
# so an error built deep in the service (a kept 404 or 412) speaks the client's language without every layer passing
# the header along. Only the raw header is kept: it is read only when an error is answered.
_ACCEPT_LANGUAGE: ContextVar[str | None] = ContextVar("accept_language", default=None)


@contextmanager
def request_language(accept_language: str | None) -> Iterator[None]:
    token = _ACCEPT_LANGUAGE.set(accept_language)
    try:
        yield
    finally:
        _ACCEPT_LANGUAGE.reset(token)


def current_language() -> str:
    """The language the current request's errors are answered in."""
    return negotiate_language(_ACCEPT_LANGUAGE.get())
