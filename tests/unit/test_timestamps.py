"""Timestamps, the item -> product step and what a product read asks for, as requests take them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from products_api.products.items import PRODUCT_ATTRIBUTES, ProductItem
from products_api.products.models import Product, format_timestamp, parse_timestamp

MOMENTS = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 30)).flatmap(
    lambda naive: st.builds(
        lambda minutes: naive.replace(tzinfo=timezone(timedelta(minutes=minutes))), st.integers(-720, 720)
    )
)


@given(MOMENTS)
def test_a_timestamp_is_iso_8601_utc_with_milliseconds_and_z(moment: datetime) -> None:
    utc = moment.astimezone(UTC)
    expected = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    assert format_timestamp(moment) == expected
    # and it reads back as the same moment, to the millisecond
    assert parse_timestamp(expected) == utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def test_an_item_becomes_a_product_that_validation_accepts_unchanged() -> None:
    """The product an item becomes is a valid one, with the domain's types (Decimal numbers become int)."""
    item = ProductItem.model_validate(
        {
            "pk": "COMPANY#ACME",
            "sk": "PRODUCT#bbbbbbbbbbbbbbbbbbbbbb01",
            "id": "bbbbbbbbbbbbbbbbbbbbbb01",
            "companyId": "ACME",
            "name": "Pack",
            "model": "M-1",
            "modelKey": "m-1",
            "defaultFieldValues": {"capacityWh": Decimal(960)},
            "imageUrls": ["https://cdn.example.com/a.jpg"],
            "status": "active",
            "sourceLocale": "en",
            "version": Decimal(7),
            "createdAt": "2026-05-01T09:00:00.000Z",
            "updatedAt": "2026-05-02T09:00:00.123Z",
        }
    )
    product = item.to_product()
    assert Product.model_validate(product.model_dump()) == product
    assert type(product.version) is int and product.version == 7
    assert product.updated_at == datetime(2026, 5, 2, 9, 0, 0, 123000, tzinfo=UTC)


def test_a_product_read_asks_for_what_a_product_is_built_from() -> None:
    # every attribute a ProductItem requires is read (else validation fails), and the product's content
    required = {field.alias for field in ProductItem.model_fields.values() if field.is_required()}
    assert required <= set(PRODUCT_ATTRIBUTES)
    assert {"description", "defaultFieldValues", "imageUrls"} <= set(PRODUCT_ATTRIBUTES)
    # not the write marks and rename copy the item keeps besides
    assert not {"writeId", "renameWriteId", "renameVersion", "updatedBy"} & set(PRODUCT_ATTRIBUTES)
