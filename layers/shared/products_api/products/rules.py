"""The business rules of a partial update: which writes a patch needs, and in which order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from products_api.errors import ConcurrentUpdate, ProductNotFound
from products_api.products.models import Product, ProductPatch, model_key, utc_now

if TYPE_CHECKING:
    from products_api.products.preconditions import VersionCondition
    from products_api.products.store import ProductStore


@dataclass(frozen=True)
class UpdateCommand:
    company_id: str
    product_id: str
    patch: ProductPatch
    version_condition: VersionCondition
    # Identifies this write across retries: derived from the Idempotency-Key, else unique per request.
    write_id: str
    # Who writes: the credential id (never the token), stored on the product for the change history.
    updated_by: str | None = None


class ProductUpdater:
    def __init__(self, store: ProductStore, max_rename_attempts: int, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._max_rename_attempts = max_rename_attempts
        self._clock = clock

    def update(self, command: UpdateCommand) -> Product:
        changes = command.patch.changes()
        if not changes:
            # `{}` writes nothing: the answer is the product as it is (and If-Match still applies)
            return self._current(command)
        if "model" not in changes:
            return self._store.update_fields(
                command.company_id,
                command.product_id,
                changes,
                command.version_condition,
                self._clock(),
                command.write_id,
                updated_by=command.updated_by,
            )
        return self._rename(command, changes)

    def _current(self, command: UpdateCommand) -> Product:
        product = self._store.get(command.company_id, command.product_id)
        if product is None:
            raise ProductNotFound(command.product_id)
        if not command.version_condition.matches(product.version):
            raise command.version_condition.failure(product.version, product.etag)
        return product

    def _rename(self, command: UpdateCommand, changes: dict[str, Any]) -> Product:
        """Read, then write on condition that nothing moved; a concurrent writer makes us read again."""
        for _ in range(self._max_rename_attempts):
            current = self._current(command)
            try:
                if model_key(changes["model"]) == current.model_key:
                    # same lock (a change of case or spelling only): a transaction may not touch one item twice
                    return self._store.update_fields(
                        command.company_id,
                        command.product_id,
                        changes,
                        command.version_condition,
                        self._clock(),
                        command.write_id,
                        updated_by=command.updated_by,
                        expected_model_key=current.model_key,
                    )
                return self._store.rename(
                    current, changes, self._clock(), command.write_id, updated_by=command.updated_by
                )
            except ConcurrentUpdate:
                continue
        raise ConcurrentUpdate(command.product_id)
