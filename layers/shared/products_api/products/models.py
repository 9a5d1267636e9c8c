"""Request, domain and storage shapes of a product: three models, each for its own side."""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from datetime import UTC, datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)
from pydantic.alias_generators import to_snake
from pydantic_core import PydanticCustomError

from products_api.products.fields import (
    DefaultFieldValues,
    Description,
    ImageUrls,
    ModelName,
    Name,
    SourceLocale,
    Status,
    patch_json_schema,
)


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
        json_schema_extra=patch_json_schema,
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


# What every shape of a product (import, domain, item, response) holds under one name and type, copied as it is from
# one shape to the next; ids, keys, versions and timestamps are each shape's own.
CONTENT_FIELDS = ("name", "model", "description", "default_field_values", "image_urls", "status", "source_locale")


def content_of(shape: BaseModel) -> dict[str, Any]:
    """A product's content, as keyword arguments for another of its shapes."""
    return {name: getattr(shape, name) for name in CONTENT_FIELDS}


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
            **content_of(self),
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
        renamed = {_domain_name(key): value for key, value in changes.items()}
        return self.model_copy(update={**renamed, "version": self.version + 1, "updated_at": updated_at})


@functools.cache
def _domain_name(storage_name: str) -> str:
    """The domain field a storage attribute holds: the table spells them camelCase (ProductItem's to_camel)."""
    return to_snake(storage_name)


def utc_now() -> datetime:
    """The clock the writes stamp `updatedAt` and history marks with (injectable where it matters)."""
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and Z, as the contract spells it."""
    # isoformat of a UTC time ends in "+00:00": a third of strftime's time, on every product answered
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


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
