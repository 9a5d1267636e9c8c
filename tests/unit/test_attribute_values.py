"""Items are read through a dispatch of their own (core/dynamodb.py) rather than boto3's TypeDeserializer, for speed:
it must return exactly what the exact-number deserializer returns, for any attribute value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary
from hypothesis import given, settings
from hypothesis import strategies as st
from products_api.core import dynamodb

NUMBERS = st.sampled_from(["0", "-0", "1", "1.50", "-12.5E+3", "1E+38", "9" * 38, "1" + "0" * 38, "0.000001"])
SCALARS = st.one_of(
    st.builds(lambda text: {"S": text}, st.text(max_size=20)),
    st.builds(lambda text: {"N": text}, NUMBERS),
    st.builds(lambda flag: {"BOOL": flag}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda data: {"B": data}, st.binary(max_size=8)),
    st.builds(lambda texts: {"SS": texts}, st.lists(st.text(max_size=5), min_size=1, max_size=3, unique=True)),
    st.builds(lambda numbers: {"NS": numbers}, st.lists(NUMBERS, min_size=1, max_size=3, unique=True)),
)
ATTRIBUTE_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=4)),
        st.builds(lambda members: {"M": members}, st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    ),
    max_leaves=20,
)


def _same(left: Any, right: Any) -> bool:
    """Equal, and of the same types all the way down (1 == Decimal(1) == True would hide a wrong type)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, Decimal):
        return str(left) == str(right)
    return bool(left == right)


@settings(max_examples=300)
@given(st.dictionaries(st.text(min_size=1, max_size=10), ATTRIBUTE_VALUES, max_size=6))
def test_an_item_reads_as_the_exact_deserializer_reads_it(item: dict[str, Any]) -> None:
    reference = {key: dynamodb._deserializer.deserialize(value) for key, value in item.items()}
    assert _same(dynamodb.from_attribute_values(item), reference)


def test_binary_and_sets_are_boto3s_types() -> None:
    read = dynamodb.from_attribute_values({"b": {"B": b"\x00"}, "ns": {"NS": ["1E+38"]}})
    assert read == {"b": Binary(b"\x00"), "ns": {Decimal("1E+38")}}


def test_an_empty_attribute_value_is_refused_as_boto3_refuses_it() -> None:
    # DynamoDB Local 3.x writes an empty map as {} in stream records; AWS writes {"M": {}}
    with pytest.raises(TypeError, match="nonempty dictionary"):
        dynamodb.from_attribute_values({"m": {}})
