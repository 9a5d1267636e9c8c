"""The product as the API answers it (the 200 body of PATCH)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from products_api.core import jsonio
from products_api.products.fields import Status
from products_api.products.models import Product, content_of, format_timestamp


class ProductResponse(BaseModel):
    """The product as the API answers it (200 body)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(alias="_id", pattern=r"^[0-9a-f]{24}$")
    name: str
    model: str
    description: str | None
    default_field_values: dict[str, Any] = Field(alias="defaultFieldValues")
    image_urls: list[str] = Field(alias="imageUrls", json_schema_extra={"items": {"type": "string", "format": "uri"}})
    status: Status
    source_locale: str = Field(alias="sourceLocale", json_schema_extra={"pattern": "^[a-z]{2}$"})
    version: int = Field(ge=1)
    created_at: str = Field(
        alias="createdAt", examples=["2026-05-01T09:00:00.000Z"], json_schema_extra={"format": "date-time"}
    )
    updated_at: str = Field(
        alias="updatedAt", examples=["2026-05-09T15:30:00.000Z"], json_schema_extra={"format": "date-time"}
    )

    @classmethod
    def from_product(cls, product: Product) -> ProductResponse:
        return cls(
            id=product.id,
            **content_of(product),
            version=product.version,
            created_at=format_timestamp(product.created_at),
            updated_at=format_timestamp(product.updated_at),
        )

    def to_json(self) -> str:
        return jsonio.dumps(self.model_dump(by_alias=True))


def product_json(product: Product) -> str:
    """The 200 body for `product`: what `ProductResponse.from_product(product).to_json()` writes, built straight from
    the product. It is on every PATCH's path, and re-validating a product that was validated when it was read (or
    built) only cost time (tests/unit/test_product_json.py holds the two equal).
    """
    return jsonio.dumps(
        {
            "_id": product.id,
            "name": product.name,
            "model": product.model,
            "description": product.description,
            "defaultFieldValues": dict(product.default_field_values),
            "imageUrls": list(product.image_urls),
            "status": product.status,
            "sourceLocale": product.source_locale,
            "version": product.version,
            "createdAt": format_timestamp(product.created_at),
            "updatedAt": format_timestamp(product.updated_at),
        }
    )
