"""JSON in and out with exact numbers: Decimal all the way, never float."""

from __future__ import annotations

import json
import re
from decimal import Context, Decimal
from typing import Any, NoReturn

import simplejson

from products_api.errors import InvalidJson

# Deeper bodies are refused before validation looks at them; the field rules allow far less.
MAX_JSON_DEPTH = 64


def _reject_constant(name: str) -> NoReturn:
    raise InvalidJson(f"{name} is not a JSON number")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidJson(f"member name {simplejson.dumps(key)} appears more than once")
        result[key] = value
    return result


# Built once: simplejson.loads and dumps build a decoder or an encoder on every call that passes options, and these
# are on every request's path. Neither keeps state between documents.
_DECODER_OPTIONS: dict[str, Any] = {
    # numbers as Decimal, integers too: int() refuses more than 4300 digits, Decimal has no such limit
    "parse_float": Decimal,
    "parse_int": Decimal,
    "object_pairs_hook": _object_without_duplicates,
    "parse_constant": _reject_constant,
}
# Every body is read by the standard library's decoder first: botocore reads each DynamoDB answer with it, so its code
# is the code a warm request already runs, where simplejson's is code of its own (issue 16: in the bench's request,
# each line of code a request runs that the bare call does not costs far more than in a loop). A body it refuses is
# read again by simplejson, whose error messages say more (a trailing comma by name) and are the ones clients got
# before. With the same hooks the two read every document alike (`tests/unit/test_jsonio.py`, by hypothesis).
_BODY_DECODER = json.JSONDecoder(**_DECODER_OPTIONS)
_REFUSAL_DECODER = simplejson.JSONDecoder(**_DECODER_OPTIONS)
_COMPACT_ENCODER = simplejson.JSONEncoder(use_decimal=True, ensure_ascii=False, separators=(",", ":"))
_CANONICAL_ENCODER = simplejson.JSONEncoder(use_decimal=True, sort_keys=True, separators=(",", ":"))
# well below the 4300 digits int() reads from text; DynamoDB's numbers have at most 38
_INT_DIGITS = 1000


def _whole_number(value: Any) -> int:
    """A Decimal written as a whole number (as items give integers back: `960`), as the int that is written the same;
    TypeError for anything else, which sends the document to simplejson."""
    if isinstance(value, Decimal):
        text = str(value)
        digits = text[1:] if text.startswith("-") else text
        if digits.isdigit() and len(digits) <= _INT_DIGITS and text != "-0":
            return int(text)
    raise TypeError(f"{type(value).__name__} is written by simplejson")


# Answers (a product, a page, an error) and canonical texts are written by the standard library's encoder too (botocore
# writes every DynamoDB request with it), whole-number Decimals as ints: the same text as simplejson's, which alone can
# be told to write any Decimal as a number. A fraction, or a number spelled with an exponent, goes to simplejson.
_COMPACT_WHOLE_NUMBERS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_whole_number)
_CANONICAL_WHOLE_NUMBERS = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_whole_number)


def _check_strings_and_depth(document: Any) -> None:
    """Refuse lone UTF-16 surrogates (no UTF-8 form, so DynamoDB cannot store them) and deep nesting."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth > MAX_JSON_DEPTH:
                raise InvalidJson(f"JSON is nested more than {MAX_JSON_DEPTH} levels deep")
            for key, item in value.items():
                _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > MAX_JSON_DEPTH:
                raise InvalidJson(f"JSON is nested more than {MAX_JSON_DEPTH} levels deep")
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_text(value)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidJson("a string holds an unpaired UTF-16 surrogate escape") from exc


def parse_object(raw: bytes) -> dict[str, Any]:
    """Parse a request body that must be one JSON object, numbers as Decimal/int."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJson("body is not valid UTF-8") from exc
    if text.startswith("\ufeff"):
        raise InvalidJson("body starts with a byte order mark")
    try:
        document = _BODY_DECODER.decode(text)
    except InvalidJson:
        raise  # a duplicate member or a constant: the hooks' own refusal
    except (ValueError, RecursionError):
        document = _refusal(text)
    if not isinstance(document, dict):
        raise InvalidJson("body must be one JSON object")
    if _may_hold_surrogate_or_depth(text):
        _check_strings_and_depth(document)
    return document


def _refusal(text: str) -> Any:
    """simplejson's reading of a body the standard library refused: its error, worded as clients get it."""
    try:
        return _REFUSAL_DECODER.decode(text)
    except simplejson.JSONDecodeError as exc:
        raise InvalidJson(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except ValueError as exc:
        raise InvalidJson("body is not valid JSON: a number cannot be read") from exc
    except RecursionError as exc:
        raise InvalidJson(f"JSON is nested more than {MAX_JSON_DEPTH} levels deep") from exc


# A lone surrogate can only come from a \uD800-\uDFFF escape (the UTF-8 text itself holds none).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _may_hold_surrogate_or_depth(text: str) -> bool:
    """Whether the walk of the parsed document could find anything. Only a \\uD800-\\uDFFF escape makes a lone
    surrogate, and a document cannot be deeper than its count of opening brackets (brackets inside strings only make
    the answer yes for nothing).
    """
    return text.count("{") + text.count("[") > MAX_JSON_DEPTH or _SURROGATE_ESCAPE.search(text) is not None


def dumps(value: Any) -> str:
    """Compact JSON; Decimal written digit for digit."""
    try:
        return _COMPACT_WHOLE_NUMBERS.encode(value)
    except TypeError:
        return _COMPACT_ENCODER.encode(value)


def canonical(value: Any) -> str:
    """One text per JSON value: key order, whitespace and number spelling (1.0 vs 1) do not matter."""
    normalised = _normalise_numbers(value)
    try:
        return _CANONICAL_WHOLE_NUMBERS.encode(normalised)
    except TypeError:  # a fraction or an exponent (960 is 9.6E+2 once normalised)
        return _CANONICAL_ENCODER.encode(normalised)


def exact_normalise(number: Decimal) -> Decimal:
    """Strip trailing zeros without rounding: normalize() alone rounds to the context's 28 digits."""
    return number.normalize(Context(prec=max(1, len(number.as_tuple().digits))))


def _normalise_numbers(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | Decimal):
        # 1.0 and 1 become one spelling; -0 and 0 too.
        return Decimal(0) if value == 0 else exact_normalise(Decimal(value))
    if isinstance(value, dict):
        return {key: _normalise_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalise_numbers(item) for item in value]
    return value
