"""Request, domain and storage shapes of a product: three models, each for its own side."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_extra_types.language_code import LanguageAlpha2

from products_api.core import jsonio

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
    for char in value:
        if char not in allowed and unicodedata.category(char) == "Cc":
            raise PydanticCustomError("control_character", "must not contain control characters")
    return value


# Control, format (zero-width, bidi overrides, ...), line and paragraph separator characters: invisible or
# reordering, they would let two names or models look alike yet differ.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _single_line(value: str) -> str:
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
    if any(char.isspace() or unicodedata.category(char) == "Cc" for char in value):
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


def _patch_json_schema(schema: dict[str, Any]) -> None:
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
# Checked against ISO 639-1 by LanguageAlpha2 (case-insensitively: the validators lower it first).
SourceLocale = Annotated[LanguageAlpha2, WithJsonSchema({"type": "string", "pattern": "^[A-Za-z]{2}$"})]


def model_key(model: str) -> str:
    """What model uniqueness compares: NFKC case folding, as NFKC, case folding, then NFKC again (folding can
    denormalise). Full-width, compatibility and case variants share one key. It approximates Unicode's
    NFKC_Casefold, which also drops Default_Ignorable code points: those are refused in models instead (Cf).
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", model).casefold())


class ProductPatch(BaseModel):
    """The request body of PATCH: every field optional; only the keys sent change anything."""

    model_config = ConfigDict(
        extra="forbid",
        validate_by_name=False,
        validate_by_alias=True,
        strict=True,
        frozen=True,
        json_schema_extra=_patch_json_schema,
    )

    name: Name | None = Field(
        default=None,
        description="Display name; trimmed, then 1-200 characters; no control, format or separator characters.",
    )
    model: ModelName | None = Field(
        default=None,
        description=(
            "Model identifier; trimmed, then 1-100 characters; no control, format or separator characters; unique "
            "per company by its NFKC case folding."
        ),
    )
    description: Description | None = Field(default=None, description="At most 2000 characters; null clears it.")
    default_field_values: DefaultFieldValues | None = Field(
        default=None,
        alias="defaultFieldValues",
        description="Replaces the whole object: any JSON values, at most 32 KiB serialised and 16 levels deep.",
    )
    image_urls: ImageUrls | None = Field(
        default=None,
        alias="imageUrls",
        description="Replaces the whole array: at most 20 distinct absolute http(s) URLs of at most 2048 characters.",
    )
    status: Status | None = Field(default=None, description="active or archived.")
    source_locale: SourceLocale | None = Field(
        default=None, alias="sourceLocale", description="ISO 639-1 language code, case-insensitive, stored lower case."
    )

    @field_validator("name", "model", "default_field_values", "image_urls", "status", "source_locale", mode="before")
    @classmethod
    def _reject_null(cls, value: Any) -> Any:
        # Only `description` may be cleared; the others answer null with an error rather than ignoring it.
        if value is None:
            raise PydanticCustomError("null_not_allowed", "must not be null")
        return value

    @field_validator("source_locale", mode="before")
    @classmethod
    def _lower_locale(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, by storage attribute name, with their new values (None clears)."""
        sent = self.model_dump(include=self.model_fields_set, by_alias=True)
        if "sourceLocale" in sent:
            sent["sourceLocale"] = str(sent["sourceLocale"])
        return sent


class NewProduct(BaseModel):
    """A product to import: the response shape without `_id`, `version` and timestamps, same field rules."""

    # Only the CLI and the local runner import products: the function never builds this validator, so it is
    # built on first use rather than at every cold start.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    name: Name
    model: ModelName
    description: Description | None = None
    default_field_values: DefaultFieldValues = Field(default_factory=dict, alias="defaultFieldValues")
    image_urls: ImageUrls = Field(default_factory=list, alias="imageUrls")
    status: Status = "active"
    source_locale: SourceLocale = Field(alias="sourceLocale")

    @field_validator("source_locale", mode="before")
    @classmethod
    def _lower_locale(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    def to_product(self, product_id: str, company_id: str, created_at: datetime) -> Product:
        """The product as first stored: version 1."""
        return Product(
            id=product_id,
            company_id=company_id,
            name=self.name,
            model=self.model,
            description=self.description,
            default_field_values=self.default_field_values,
            image_urls=self.image_urls,
            status=self.status,
            source_locale=str(self.source_locale),
            version=1,
            created_at=created_at,
            updated_at=created_at,
        )


class Product(BaseModel):
    """A product as the business rules see it."""

    model_config = ConfigDict(frozen=True)

    id: str
    company_id: str
    name: str
    model: str
    description: str | None
    default_field_values: dict[str, Any]
    image_urls: list[str]
    status: Status
    source_locale: str
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def model_key(self) -> str:
        return model_key(self.model)

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    def with_changes(self, changes: dict[str, Any], updated_at: datetime) -> Product:
        """The product after a write of `changes` (storage attribute names) that succeeded."""
        renamed = {_STORAGE_TO_DOMAIN[key]: value for key, value in changes.items()}
        return self.model_copy(update={**renamed, "version": self.version + 1, "updated_at": updated_at})


_STORAGE_TO_DOMAIN = {
    "name": "name",
    "model": "model",
    "description": "description",
    "defaultFieldValues": "default_field_values",
    "imageUrls": "image_urls",
    "status": "status",
    "sourceLocale": "source_locale",
}


def utc_now() -> datetime:
    """The clock the writes stamp `updatedAt` and history marks with (injectable where it matters)."""
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and Z, as the contract spells it."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def company_partition(company_id: str) -> str:
    return f"COMPANY#{company_id}"


def product_sort_key(product_id: str) -> str:
    return f"PRODUCT#{product_id}"


# DynamoDB limits a sort key to 1024 bytes; a model of 100 characters can have a key of 1800 (NFKC expands some
# characters threefold). Keys longer than this are locked under their SHA-256 instead, so every model is storable.
MAX_PLAIN_LOCK_KEY_BYTES = 512
HASHED_LOCK_PREFIX = "~sha256:"


def model_lock_sort_key(key: str) -> str:
    encoded = key.encode("utf-8")
    if len(encoded) > MAX_PLAIN_LOCK_KEY_BYTES:
        return f"MODEL#{HASHED_LOCK_PREFIX}{hashlib.sha256(encoded).hexdigest()}"
    return f"MODEL#{key}"
