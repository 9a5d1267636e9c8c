"""The PATCH 200 body is built straight from the product (`product_json`): it must be exactly what the response
model (`ProductResponse`, the schema the API reference documents) writes for the same product.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from products_api.api.responses import product_outcome
from products_api.products.models import Product
from products_api.products.responses import ProductResponse, product_json
from support import sample_product

JSON_LEAVES = (
    st.none() | st.booleans() | st.integers() | st.text() | st.decimals(allow_nan=False, allow_infinity=False, places=3)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
TIMES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@st.composite
def products(draw: Any) -> Product:
    created = draw(TIMES)
    return Product(
        id=draw(st.text("0123456789abcdef", min_size=24, max_size=24)),
        company_id="ACME",
        name=draw(st.text(min_size=1, max_size=20)),
        model=draw(st.text(min_size=1, max_size=20)),
        description=draw(st.none() | st.text(max_size=20)),
        default_field_values=draw(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4)),
        image_urls=draw(st.lists(st.sampled_from(["https://a.example/x.jpg", "http://b.example/é?q=1"]), max_size=2)),
        status=draw(st.sampled_from(["active", "archived"])),
        source_locale=draw(st.sampled_from(["en", "de", "it"])),
        version=draw(st.integers(min_value=1, max_value=10**9)),
        created_at=created,
        updated_at=draw(TIMES),
    )


@given(products())
def test_the_body_is_what_the_response_model_writes(product: Product) -> None:
    assert product_json(product) == ProductResponse.from_product(product).to_json()


def test_a_stored_product_with_decimal_numbers_and_unicode() -> None:
    # what this test is about: exact decimals, non-ASCII text, a null, and milliseconds in a timestamp
    product = sample_product(
        name="Akku 48 V \u2013 \u00dcbergr\u00f6\u00dfe",
        default_field_values={"weight": Decimal("12.50"), "tags": ["a", {"b": Decimal(3)}], "ok": True},
        description=None,
        updated_at=datetime(2026, 5, 9, 15, 30, 0, 123000, tzinfo=UTC),
    )
    body = product_json(product)
    assert body == ProductResponse.from_product(product).to_json()
    assert product_outcome(product).body == body
    assert '"updatedAt":"2026-05-09T15:30:00.123Z"' in body or '"updatedAt": "2026-05-09T15:30:00.123Z"' in body
