"""The `error` sentences a client reads, in English, Italian and German: one per code (and per catalogue entry
that says something of its own), and one per reason an error is raised with (DomainError.reason). Data only:
api/messages.py renders them.
"""

from __future__ import annotations

from collections.abc import Mapping

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
