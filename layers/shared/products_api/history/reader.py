"""The history route's rule and answer: a company reads the changes of its own products, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from products_api.core import jsonio
from products_api.errors import ProductNotFound
from products_api.products.models import format_timestamp

if TYPE_CHECKING:
    from products_api.history.store import FieldChange, HistoryEntry, HistoryPage, HistoryStore
    from products_api.products.store import ProductStore


class ProductHistoryReader:
    def __init__(self, products: ProductStore, history: HistoryStore) -> None:
        self._products = products
        self._history = history

    def page(self, company_id: str, product_id: str, limit: int, before_version: int | None) -> HistoryPage:
        """A page of the product's history. The product must be the company's: another company's product is not
        found, and a product of the company that has no records yet has an empty history.
        """
        if not self._products.exists(company_id, product_id):
            raise ProductNotFound(product_id)
        return self._history.page(company_id, product_id, limit, before_version)


# The response models are built on the history route's first answer, not at import: the update function imports
# this module too (through http.py) and never answers a history.
class FieldChangeResponse(BaseModel):
    """One field of one write, as the API answers it."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    field: str = Field(description="The field's name in the product (`name`, `imageUrls`, ...).")
    before: Any = Field(alias="from", description="The value before the write; null when it was absent or null.")
    after: Any = Field(alias="to", description="The value after the write; null when it was cleared.")

    @classmethod
    def from_change(cls, change: FieldChange) -> FieldChangeResponse:
        return cls(field=change.field, before=change.before, after=change.after)


class HistoryEntryResponse(BaseModel):
    """What one write of the product changed, as the API answers it."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    version: int = Field(ge=1, description="The product's version this write made.")
    changed_at: str = Field(
        alias="changedAt",
        examples=["2026-05-09T15:30:00.000Z"],
        json_schema_extra={"format": "date-time"},
        description="When the write happened: ISO 8601 UTC with milliseconds and `Z`.",
    )
    changed_by: str | None = Field(
        alias="changedBy",
        description="The id of the credential that made the write (never the token); null for writes made outside "
        "the API, such as an import.",
    )
    changes: list[FieldChangeResponse] = Field(
        description="The fields the write changed, with their old and new values."
    )

    @classmethod
    def from_entry(cls, entry: HistoryEntry) -> HistoryEntryResponse:
        return cls(
            version=entry.version,
            changed_at=format_timestamp(entry.changed_at),
            changed_by=entry.changed_by,
            changes=[FieldChangeResponse.from_change(change) for change in entry.changes],
        )


class HistoryResponse(BaseModel):
    """A page of a product's history (200 body)."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    items: list[HistoryEntryResponse] = Field(description="The writes of this page, newest (highest version) first.")
    next_cursor: str | None = Field(
        alias="nextCursor",
        description="Send it back as `cursor` for the next (older) page; null on the last page.",
    )

    def to_json(self) -> str:
        # python mode keeps the stored Decimals, which jsonio writes digit for digit
        return jsonio.dumps(self.model_dump(by_alias=True))
