"""The product item as the products table stores it: camelCase attribute names, timestamps as text."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from products_api.core.dynamodb import StoredItem
from products_api.products.fields import Status
from products_api.products.models import (
    CONTENT_FIELDS,
    Product,
    company_partition,
    content_of,
    format_timestamp,
    parse_timestamp,
    product_sort_key,
)


class ProductItem(StoredItem):
    """The product item as stored in DynamoDB (after TypeDeserializer): numbers arrive as Decimal."""

    pk: str
    sk: str
    id: str
    company_id: str
    name: str
    model: str
    model_key: str
    description: str | None = None
    default_field_values: dict[str, Any] = Field(default_factory=dict)
    image_urls: list[str] = Field(default_factory=list)
    status: Status
    source_locale: str
    version: int
    created_at: str
    updated_at: str
    # Which write made this version: lets a retried write recognise that it already happened.
    write_id: str | None = None
    # The version the latest rename made and its write id (the rest of that version: `renameState.*` attributes).
    rename_write_id: str | None = None
    rename_version: int | None = None
    # The credential id that made this version (never the token); absent for products written outside the API.
    updated_by: str | None = None

    def to_product(self) -> Product:
        # validated again, yet cheaper than Product.model_construct, which sets each field in Python
        return Product(
            id=self.id,
            company_id=self.company_id,
            **content_of(self),
            version=self.version,
            created_at=parse_timestamp(self.created_at),
            updated_at=parse_timestamp(self.updated_at),
        )

    @classmethod
    def from_product(cls, product: Product) -> ProductItem:
        return cls(
            pk=company_partition(product.company_id),
            sk=product_sort_key(product.id),
            id=product.id,
            company_id=product.company_id,
            model_key=product.model_key,
            **content_of(product),
            version=product.version,
            created_at=format_timestamp(product.created_at),
            updated_at=format_timestamp(product.updated_at),
        )


# What a read of a product asks DynamoDB for: the attributes a Product is built from, not the write marks and the
# rename copy the item holds besides (each keyed write leaves one `write#` attribute, up to 80 of them).
PRODUCT_ATTRIBUTES = tuple(
    field.alias or name
    for name, field in ProductItem.model_fields.items()
    if field.is_required() or name in CONTENT_FIELDS
)
PRODUCT_PROJECTION = ", ".join(f"#p{position}" for position in range(len(PRODUCT_ATTRIBUTES)))
PRODUCT_PROJECTION_NAMES = {f"#p{position}": attribute for position, attribute in enumerate(PRODUCT_ATTRIBUTES)}
