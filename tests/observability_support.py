"""What the observability tests share: one handler call observed (its log lines and EMF blobs), and a product
update that fails with a given message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from products_api.products.rules import ProductUpdater
from support import ApiResponse


@dataclass
class Observed:
    event: dict[str, Any]
    response: ApiResponse
    log_lines: list[dict[str, Any]]
    log_text: str
    emf: list[dict[str, Any]]

    @property
    def line(self) -> dict[str, Any]:
        assert len(self.log_lines) == 1, f"expected one log line per request, got {self.log_text}"
        return self.log_lines[0]

    @property
    def blob(self) -> dict[str, Any]:
        assert len(self.emf) == 1, f"expected one EMF blob per request, got {self.emf}"
        return self.emf[0]


Observe = Callable[..., Observed]


def explode(message: str) -> Callable[[ProductUpdater, Any], Any]:
    def update(self: ProductUpdater, command: Any) -> Any:
        raise RuntimeError(message)

    return update
