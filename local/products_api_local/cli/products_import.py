"""Importing products: a file read and checked, then written all or nothing (a transaction per batch)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from products_api.core import jsonio
from products_api.errors import DuplicateModel, InvalidJson
from products_api.products.models import NewProduct, Product, model_key
from products_api.products.store import ProductStore
from products_api.products.transactions import MAX_PRODUCTS_PER_TRANSACTION
from pydantic import ValidationError

from products_api_local.cli.targets import CliError

_TRANSACTION_CONFLICT_RETRIES = 5


# --- inputs ---------------------------------------------------------------------------------------------------------


def read_products_file(path: Path) -> list[NewProduct]:
    """Every problem of the file at once, item by item, before anything is written."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a folder, not a JSON file") from None
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror or exc}") from None
    try:
        document = jsonio.parse_object(b'{"items":' + raw + b"}")["items"]
    except InvalidJson as exc:
        raise CliError(f"{path}: {exc}") from None
    if not isinstance(document, list):
        raise CliError(f"{path}: expected a JSON array of products")
    if not document:
        raise CliError(f"{path}: the array is empty, nothing to import")
    products: list[NewProduct] = []
    problems: list[str] = []
    seen_models: dict[str, int] = {}
    for position, item in enumerate(document):
        try:
            product = NewProduct.model_validate(item)
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(part) for part in error["loc"]) or "item"
                problems.append(f"item {position}: {field}: {error['msg']}")
            continue
        key = model_key(product.model)
        if key in seen_models:
            problems.append(f"item {position}: model {product.model!r} repeats item {seen_models[key]}")
        seen_models[key] = position
        products.append(product)
    if problems:
        raise CliError(f"{path}: nothing imported:\n  " + "\n  ".join(problems))
    return products


# --- import ---------------------------------------------------------------------------------------------------------


def import_product_id(company: str, product: NewProduct) -> str:
    """The id an imported product gets: derived from its company and model, so a re-run of the same file finds what
    it wrote before (the model is unique in a company). 24 hex digits, the shape of every product id."""
    digest = hashlib.sha256(f"products-api import\0{company}\0{model_key(product.model)}".encode()).hexdigest()
    return digest[:24]


@dataclass
class ImportReport:
    written: list[str]
    existing: list[str]


class ModelsTaken(CliError):
    """Models of the file are held by other products of the company: that batch was not written."""

    def __init__(self, company: str, taken: dict[str, str], written_before: int) -> None:
        listed = ", ".join(f"{model!r} (product {holder})" for model, holder in taken.items())
        done = f"; {written_before} product(s) of earlier batches were written (ids above)" if written_before else ""
        super().__init__(f"models already taken in company {company}: {listed}; nothing of this batch written{done}")
        self.taken = taken


def import_products(store: ProductStore, company: str, products: Sequence[NewProduct]) -> list[str]:
    """The ids of the products, in their order, written now or by an earlier import of them.

    Raises DuplicateModel when a model is held by another product of the company.
    """
    try:
        write_products(store, company, products)
    except ModelsTaken as exc:
        raise DuplicateModel(next(iter(exc.taken))) from exc
    return [import_product_id(company, product) for product in products]


def write_products(store: ProductStore, company: str, products: Sequence[NewProduct], echo: Any = None) -> ImportReport:
    """Write the products, all or nothing when they fit one transaction (50 products); larger files go 50 at a time,
    each batch all or nothing, and a re-run of the same file skips what is written already. `echo` is called with
    each batch's ids as soon as they are written."""
    now = datetime.now(UTC)
    pending: list[Product] = [
        product.to_product(import_product_id(company, product), company, now) for product in products
    ]
    report = ImportReport(written=[], existing=[])
    for start in range(0, len(pending), MAX_PRODUCTS_PER_TRANSACTION):
        batch = pending[start : start + MAX_PRODUCTS_PER_TRANSACTION]
        for attempt in range(_TRANSACTION_CONFLICT_RETRIES):
            if not batch:
                break
            outcome = store.create_all(batch)
            if outcome.taken_models:
                raise ModelsTaken(company, outcome.taken_models, len(report.written))
            if outcome.conflict:
                # a concurrent write on the same items: DynamoDB cancelled ours, nothing was written
                time.sleep(0.05 * (attempt + 1))
                continue
            if outcome.existing:
                report.existing += outcome.existing
                batch = [product for product in batch if product.id not in set(outcome.existing)]
                continue
            report.written += outcome.written
            if echo is not None:
                echo(outcome.written)
            break
        else:
            raise CliError("concurrent writes kept cancelling the import: try again")
    return report
