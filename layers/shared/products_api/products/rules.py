"""The business rules of a partial update: which writes a patch needs, and in which order."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from products_api.errors import ConcurrentUpdate, ProductNotFound
from products_api.products.models import Product, ProductPatch, model_key, utc_now

if TYPE_CHECKING:
    from products_api.products.preconditions import VersionCondition
    from products_api.products.store import ProductStore


@dataclass(frozen=True, kw_only=True)
class UpdateCommand:
    """One PATCH to apply: which product, what changes on which condition, who writes it, and as which write."""

    company_id: str
    product_id: str
    patch: ProductPatch
    version_condition: VersionCondition
    # The credential id (never the token), stored on the product for the change history; None outside the API.
    updated_by: str | None
    # Identifies this write across retries: derived from the Idempotency-Key, else unique per request.
    write_id: str
    # Sent with an Idempotency-Key: the product remembers the write, so a re-run whose record was lost finds it.
    remember: bool
    # When the function's time ends (time.monotonic() seconds); None outside Lambda (CLI, scripts).
    deadline: float | None


# Contention is retried with "full jitter" exponential backoff (a random delay up to BASE * 2^attempt, capped): the
# writers that collided spread out instead of colliding again in step.
BACKOFF_BASE_SECONDS = 0.02
BACKOFF_CAP_SECONDS = 0.5
# Without a Lambda deadline, contention is retried for this long.
DEFAULT_RETRY_WINDOW_SECONDS = 2.0


class ProductUpdater:
    def __init__(
        self,
        store: ProductStore,
        safety_margin_seconds: float,
        clock: Callable[[], datetime] = utc_now,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self._store = store
        # time kept back from the function's deadline for the last attempt and the answer
        self._safety_margin = safety_margin_seconds
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._jitter = jitter

    def update(self, command: UpdateCommand) -> Product:
        """Apply the patch; contention (ConcurrentUpdate) is retried with backoff while the function has time, then
        raised: the caller answers 409 concurrent_update, and nothing of this request was written.
        """
        if command.deadline is None:
            give_up_at = self._monotonic() + DEFAULT_RETRY_WINDOW_SECONDS
        else:
            give_up_at = command.deadline - self._safety_margin
        attempt = 0
        while True:
            try:
                return self._attempt(command)
            except ConcurrentUpdate:
                delay = self._jitter(0.0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))
                if self._monotonic() + delay >= give_up_at:
                    raise
                self._sleep(delay)
                attempt += 1

    def _attempt(self, command: UpdateCommand) -> Product:
        if not command.patch.model_fields_set:
            # `{}` writes nothing: the answer is the product as it is (and If-Match still applies)
            return self._current(command)
        changes = command.patch.changes()
        if "model" not in changes:
            return self._update_fields(command, changes)
        return self._rename(command, changes)

    def _update_fields(
        self, command: UpdateCommand, changes: dict[str, Any], expected_model_key: str | None = None
    ) -> Product:
        """One conditional UpdateItem; with `expected_model_key`, on condition the product still holds that model."""
        return self._store.update_fields(
            command.company_id,
            command.product_id,
            changes,
            command.version_condition,
            self._clock(),
            command.write_id,
            updated_by=command.updated_by,
            expected_model_key=expected_model_key,
            remember=command.remember,
        )

    def _current(self, command: UpdateCommand) -> Product:
        product = self._store.get(command.company_id, command.product_id)
        if product is None:
            raise ProductNotFound(command.product_id)
        if not command.version_condition.matches(product.version):
            raise command.version_condition.failure(product.version, product.etag)
        return product

    def _rename(self, command: UpdateCommand, changes: dict[str, Any]) -> Product:
        """Read, then move the lock on condition the product still holds the model read (other fields may move)."""
        found = self._store.get_with_write_id(command.company_id, command.product_id)
        if found is None:
            raise ProductNotFound(command.product_id)
        current, stored = found
        done = self._store.already_written(stored, command.write_id)
        if done is not None:
            # this very write was applied by an earlier run (its answer or idempotency record was lost)
            return done
        if not command.version_condition.matches(current.version):
            raise command.version_condition.failure(current.version, current.etag)
        if model_key(changes["model"]) == current.model_key:
            # same lock (a change of case or spelling only): a transaction may not touch one item twice
            return self._update_fields(command, changes, expected_model_key=current.model_key)
        return self._store.rename(
            current,
            changes,
            self._clock(),
            command.write_id,
            updated_by=command.updated_by,
            version_condition=command.version_condition,
            remember=command.remember,
            read_item=stored,
        )
