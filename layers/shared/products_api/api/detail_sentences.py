"""The `details[].message` sentences a client reads, in English, Italian and German: one per validation problem,
by reason or pydantic error type, so no library wording reaches a client. Data only: api/messages.py renders
them.
"""

from __future__ import annotations

from collections.abc import Mapping

from products_api.api.error_sentences import Sentences

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
