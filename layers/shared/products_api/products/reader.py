"""Reading products: a company reads its own products, one by id, a page at a time, or the one holding a model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from products_api.core import jsonio
from products_api.errors import ProductNotFound
from products_api.products.models import model_key
from products_api.products.responses import ProductResponse
from products_api.products.store import ProductPage

if TYPE_CHECKING:
    from products_api.products.fields import Status
    from products_api.products.models import Product
    from products_api.products.store import ProductStore


class ProductReader:
    def __init__(self, products: ProductStore) -> None:
        self._products = products

    def get(self, company_id: str, product_id: str) -> Product:
        """The company's product (a consistent read: its ETag is what a PATCH with If-Match compares next)."""
        product = self._products.get(company_id, product_id)
        if product is None:
            # another company's product is not found either: the key holds the company
            raise ProductNotFound(product_id)
        return product

    def page(self, company_id: str, limit: int, after_id: str | None, status: Status | None) -> ProductPage:
        return self._products.page(company_id, limit, after_id, status)

    def by_model(self, company_id: str, model: str, status: Status | None) -> ProductPage:
        """The product holding `model`'s key (the key uniqueness compares), as a page of at most one product."""
        owner = self._products.model_owner(company_id, model_key(model))
        product = self._products.get(company_id, owner) if owner is not None else None
        if product is None or (status is not None and product.status != status):
            return ProductPage(products=(), has_more=False)
        return ProductPage(products=(product,), has_more=False)


class ProductListResponse(BaseModel):
    """A page of the caller's company's products (200 body of GET /api/v1/products)."""

    # Built on the listing's first answer, not at import.
    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    items: list[ProductResponse] = Field(
        description="The products of this page, in id order, each as GET /api/v1/products/{id} answers it."
    )
    next_cursor: str | None = Field(
        alias="nextCursor",
        description="Send it back as `cursor` (with the same `status`) for the next page; null on the last page.",
    )

    def to_json(self) -> str:
        return jsonio.dumps(self.model_dump(by_alias=True))
