"""What a valid product field is: the annotated types of each field, their checks, and the limits they hold to.

The request and domain models (products/models.py) are built from these types."""

from __future__ import annotations

import functools
import re
import unicodedata
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    HttpUrl,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from products_api.core import jsonio
from products_api.products.language_codes import ISO_639_1

MAX_DEFAULT_FIELD_VALUES_BYTES = 32 * 1024
MAX_DEFAULT_FIELD_VALUES_DEPTH = 16
MAX_IMAGE_URLS = 20
MAX_URL_LENGTH = 2048
READ_ONLY_FIELDS = frozenset({"_id", "id", "createdAt", "updatedAt", "version", "companyId"})

# DynamoDB numbers: 38 significant digits, magnitude from 1E-130 to 9.99...E+125.
_MAX_NUMBER_DIGITS = 38
_MIN_ADJUSTED_EXPONENT = -130
_MAX_ADJUSTED_EXPONENT = 125
# boto3 serialises numbers in a context with Emin -128 and 38 digits, so no digit may sit below 1E-165 (Etiny):
# 38 digits starting at 1E-130 are inside DynamoDB's range yet boto3 raises Underflow on them.
_MIN_DIGIT_EXPONENT = -165

_NULLABLE_FIELDS = frozenset({"description"})


def _no_control_characters(value: str, allowed: str = "") -> str:
    if value.isprintable():
        return value  # no character of a category "Other" (Cc among them) or "Separator" but the space
    for char in value:
        if char not in allowed and unicodedata.category(char) == "Cc":
            raise PydanticCustomError("control_character", "must not contain control characters")
    return value


# Control, format (zero-width, bidi overrides, ...), line and paragraph separator characters: invisible or
# reordering, they would let two names or models look alike yet differ.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _single_line(value: str) -> str:
    if value.isprintable():
        # isprintable() is False for every character of the categories "Other" (Cc, Cf, ...) and "Separator" (Zl, Zp,
        # ...) but the space: one C call clears the usual text; the rest is looked at character by character
        return value
    for char in value:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise PydanticCustomError(
                "invisible_character",
                "must not contain control, format or line/paragraph separator characters (found U+{code})",
                {"code": f"{ord(char):04X}"},
            )
    return value


def _multi_line(value: str) -> str:
    return _no_control_characters(value, allowed="\t\n\r")


@functools.cache
def _http_url_adapter() -> TypeAdapter[HttpUrl]:
    """Built on the first URL to check, not at import: most patches carry no imageUrls."""
    return TypeAdapter(HttpUrl)


_ABSOLUTE_HTTP_URL = re.compile(r"https?://", re.IGNORECASE)


def _image_url(value: str) -> str:
    """Validate with pydantic's URL parser but keep the client's spelling, which is what it will compare."""
    if len(value) > MAX_URL_LENGTH:
        raise PydanticCustomError("url_too_long", "must be at most {max} characters", {"max": MAX_URL_LENGTH})
    if not _ABSOLUTE_HTTP_URL.match(value):
        # the URL parser alone forgives `https:host` and `https:/host`; the contract asks for absolute URLs
        raise PydanticCustomError("url_scheme", "must be an absolute http or https URL (http://… or https://…)")
    # printable text holds no control character and no whitespace but the space (as in _single_line)
    if (" " in value or not value.isprintable()) and any(
        char.isspace() or unicodedata.category(char) == "Cc" for char in value
    ):
        raise PydanticCustomError("url_whitespace", "must not contain whitespace or control characters")
    try:
        _http_url_adapter().validate_python(value)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise PydanticCustomError(
            "url_parsing", "must be an absolute http or https URL ({reason})", {"reason": reason}
        ) from None
    return value


def _number_fits(number: int | Decimal) -> bool:
    decimal = Decimal(number)
    if not decimal.is_finite():
        return False
    if decimal == 0:
        return True
    normalised = jsonio.exact_normalise(decimal).as_tuple()
    if not isinstance(normalised.exponent, int):  # only NaN and infinities, refused above
        return False
    return (
        len(normalised.digits) <= _MAX_NUMBER_DIGITS
        and _MIN_ADJUSTED_EXPONENT <= decimal.adjusted() <= _MAX_ADJUSTED_EXPONENT
        and normalised.exponent >= _MIN_DIGIT_EXPONENT
    )


def _storable_numbers(value: Any) -> Any:
    """The same JSON value with every number of more than 38 digits written without its trailing zeros
    (100000000000000000000000000000000000000 as 1E+38, 1.000...0 as 1): equal, and what DynamoDB can be sent.
    The rest keep the client's spelling.
    """
    if isinstance(value, dict):
        return {key: _storable_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable_numbers(item) for item in value]
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        number = Decimal(value)
        if len(number.as_tuple().digits) > _MAX_NUMBER_DIGITS:
            return jsonio.exact_normalise(number)
    return value


def _check_json_tree(value: dict[str, Any]) -> dict[str, Any]:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEFAULT_FIELD_VALUES_DEPTH:
                raise PydanticCustomError(
                    "too_deep", "must be at most {max} levels deep", {"max": MAX_DEFAULT_FIELD_VALUES_DEPTH}
                )
            if isinstance(item, dict) and "" in item:
                # DynamoDB refuses empty attribute names, at any depth of a map
                raise PydanticCustomError("empty_member_name", "member names must not be empty")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, int | Decimal) and not isinstance(item, bool) and not _number_fits(item):
            raise PydanticCustomError(
                "number_range",
                "number {number} cannot be stored exactly: at most 38 significant digits, "
                "magnitude from 1E-130 to 9.99E+125, no digit below 1E-165",
                {"number": str(item)},
            )
    value = _storable_numbers(value)
    size = len(jsonio.dumps(value).encode("utf-8"))
    if size > MAX_DEFAULT_FIELD_VALUES_BYTES:
        raise PydanticCustomError(
            "too_large",
            "must be at most {max} bytes once serialised (got {size})",
            {"max": MAX_DEFAULT_FIELD_VALUES_BYTES, "size": size},
        )
    return value


def omit_null(schema: dict[str, Any]) -> None:
    """JSON schema of an optional key that is left out, never sent as null: no null branch, no default."""
    schema.pop("default", None)
    branches = [branch for branch in schema.pop("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches


def patch_json_schema(schema: dict[str, Any]) -> None:
    """A PATCH body: an omitted key is left alone (no default); null is refused except where it clears a field."""
    for name, prop in schema.get("properties", {}).items():
        if name in _NULLABLE_FIELDS:
            prop.pop("default", None)
        else:
            omit_null(prop)


def _unique_urls(urls: list[str]) -> list[str]:
    seen: set[str] = set()
    for position, url in enumerate(urls):
        if url in seen:
            raise PydanticCustomError(
                "duplicate_url", "item {position} repeats {url}", {"position": position, "url": url}
            )
        seen.add(url)
    return urls


# For the JSON schema only (pydantic does not enforce them): no control characters, and something besides
# whitespace. Slightly stricter than the validators for leading/trailing tabs or newlines, which they trim.
# Single-line strings (name, model) also refuse the Basic Multilingual Plane's Cf, Zl and Zp characters (the
# validator refuses those of every plane; tests check this list against unicodedata).
REFUSED_BMP_RANGES = (
    r"\u0000-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    r"\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
)
_SINGLE_LINE_PATTERN = rf"^[^{REFUSED_BMP_RANGES}]*[^\s{REFUSED_BMP_RANGES}][^{REFUSED_BMP_RANGES}]*$"
_MULTI_LINE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_single_line),
    Field(json_schema_extra={"pattern": _SINGLE_LINE_PATTERN}),
]
ModelName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_single_line),
    Field(json_schema_extra={"pattern": _SINGLE_LINE_PATTERN}),
]
Description = Annotated[
    str,
    StringConstraints(max_length=2000),
    AfterValidator(_multi_line),
    Field(json_schema_extra={"pattern": _MULTI_LINE_PATTERN}),
]
ImageUrl = Annotated[
    str,
    AfterValidator(_image_url),
    WithJsonSchema(
        {"type": "string", "format": "uri", "maxLength": MAX_URL_LENGTH, "pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$"}
    ),
]
ImageUrls = Annotated[
    list[ImageUrl],
    Field(max_length=MAX_IMAGE_URLS, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_unique_urls),
]
DefaultFieldValues = Annotated[dict[str, Any], AfterValidator(_check_json_tree)]
Status = Literal["active", "archived"]


def _iso_639_1(code: str) -> str:
    # the error pydantic-extra-types' LanguageAlpha2 raised before, so clients see the same type and message
    if code not in ISO_639_1:
        raise PydanticCustomError("language_alpha2", "Invalid language alpha2 code")
    return code


# Checked against ISO 639-1 (case-insensitively: the validators lower it first, as LanguageAlpha2's schema did).
SourceLocale = Annotated[
    str,
    StringConstraints(to_lower=True),
    AfterValidator(_iso_639_1),
    WithJsonSchema({"type": "string", "pattern": "^[A-Za-z]{2}$"}),
]
