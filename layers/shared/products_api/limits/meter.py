"""Metering: every applied write counts once toward its company's month, counted from the products table's stream.

A write is a new version of a product made through the API (the item's `updatedBy` names a credential); products
created or changed outside the API (the CLI's import, the local demo seed) are not metered. A version is counted in
the month (UTC) of its `updatedAt`, so a record redelivered after midnight on the 1st still counts in its own month.
"""

from __future__ import annotations

from collections.abc import Callable

from products_api.history.store import HistoryEntry
from products_api.limits.store import LimitsStore, month_of


class WriteMeter:
    def __init__(self, store: LimitsStore, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    def count(self, entry: HistoryEntry) -> bool:
        """Count the entry's write once (one TransactWriteItems); False when it is not metered or counted before."""
        if entry.changed_by is None:
            return False
        return self._store.meter(
            entry.company_id, entry.product_id, entry.version, month_of(entry.changed_at), self._clock()
        )
