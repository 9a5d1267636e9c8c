"""Redaction: every log line passes through `redacted_json` on its way out, so a credential that ends up in a message,
a header or an exception is masked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[REDACTED]"
# Mapping keys whose values are secrets whatever they hold (headers, botocore's request dicts, settings).
_SENSITIVE_KEY = re.compile(r"authorization|security[-_]?token|secret|password|api[-_]?key|cookie|^token$", re.I)
# A cheap test first: almost every string logged contains none of these, and skips the substitutions.
_MAYBE_SECRET = re.compile(r"authorization|bearer|basic\s|tp_|security-token|credential=|signature=|AKIA|ASIA", re.I)
_SECRETS_IN_TEXT = (
    # a header's value in a repr, a dict or JSON: 'Authorization': 'Bearer x', "x-amz-security-token"=b"..."
    (
        re.compile(r"""((?:authorization|x-amz-security-token)["']?\s*[:=]\s*b?)(["'])(?:\\.|(?!\2).)*\2""", re.I),
        rf"\1\2{REDACTED}\2",
    ),
    # a header line: Authorization: Bearer x (to the end of the line)
    (re.compile(r"((?:authorization|x-amz-security-token)\s*:\s*)(?![\"'\s])[^\r\n]+", re.I), rf"\1{REDACTED}"),
    (re.compile(r"\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*", re.I), rf"\1 {REDACTED}"),
    # API keys (tp_ and the 256-bit secret); OAuth tokens carry no prefix and are caught by the forms above
    (re.compile(r"\btp_[A-Za-z0-9_\-]{8,}"), f"tp_{REDACTED}"),
    # SigV4 parts and AWS access key ids (botocore's request dumps)
    (re.compile(r"\b(Credential|Signature)=[^\s,'\"]+"), rf"\1={REDACTED}"),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),
)


def redact_text(text: str) -> str:
    if not _MAYBE_SECRET.search(text):
        return text
    for pattern, replacement in _SECRETS_IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any) -> Any:
    """A copy of a log record's data with credentials masked, in keys' values and inside any text."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            key: REDACTED if isinstance(key, str) and _SENSITIVE_KEY.search(key) and item is not None else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value))  # what json.dumps(default=str) would write, redacted first


# Anything `redact` could change leaves one of these in the serialised line, case-folded: a sensitive key's name, or
# the cheap test of a secret in text (loosened where JSON escaping could hide it: `basic` without the whitespace,
# `security`). Substring tests of the case-folded line: a case-insensitive regex over the line cost ~15x more, on
# every request. casefold() folds at least what re.IGNORECASE matches (e.g. the long s and the Kelvin sign); what it
# folds beyond only sends a line down the masking path.
_MIGHT_HOLD_SECRET = (
    "authorization",
    "bearer",
    "basic",
    "tp_",
    "security",
    "credential=",
    "signature=",
    "akia",
    "asia",
    "secret",
    "password",
    "apikey",
    "api-key",
    "api_key",
    "cookie",
    "token",
)


def might_hold_secret(text: str) -> bool:
    folded = text.casefold()
    return any(word in folded for word in _MIGHT_HOLD_SECRET)


def _json_default(value: Any) -> Any:
    # as `redact` writes them: sets as lists, anything else as its text
    return list(value) if isinstance(value, set | frozenset) else str(value)


# built once: json.dumps builds an encoder on every call that passes options
_LINE_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_json_default)
_MASKED_LINE_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def redacted_json(log: dict[str, Any]) -> str:
    """The Logger's serializer: the last step before a line is written, so nothing gets around it.

    Most lines hold nothing to mask: they are written as they are after one scan of the text, and only a line that
    might hold a secret is walked and masked (a request's line is on every request's path).
    """
    text = _LINE_ENCODER.encode(log)
    if not might_hold_secret(text):
        return text
    return _MASKED_LINE_ENCODER.encode(redact(log))
