"""jsonio keeps one decoder and two encoders for every document: they must read and write exactly what simplejson's
own `loads`/`dumps` do with the same options, which build a new one per call.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import simplejson
from products_api.core import jsonio
from products_api.errors import InvalidJson

DOCUMENTS = [
    '{"name": "Li-Ion 48V", "n": 1, "x": 1.50, "big": 123456789012345678901234567890123456789}',
    '{"nested": {"a": [1, 2.0, -0, 1e3, {"b": null}], "c": true, "d": false}, "e": []}',
    '{"text": "Grüße, 製品, \\u00e9, \\ud83d\\ude00, \\"quoted\\" \\\\ back"}',
    "{}",
]


def _reference_loads(text: str) -> Any:
    return simplejson.loads(
        text,
        use_decimal=True,
        parse_int=Decimal,
        object_pairs_hook=jsonio._object_without_duplicates,
        parse_constant=jsonio._reject_constant,
    )


@pytest.mark.parametrize("text", DOCUMENTS)
def test_the_kept_decoder_and_encoders_match_simplejsons_own(text: str) -> None:
    document = jsonio.parse_object(text.encode())
    reference = _reference_loads(text)
    assert document == reference
    assert [type(value) for value in document.values()] == [type(value) for value in reference.values()]
    assert jsonio.dumps(document) == simplejson.dumps(
        reference, use_decimal=True, ensure_ascii=False, separators=(",", ":")
    )
    assert jsonio.canonical(document) == simplejson.dumps(
        jsonio._normalise_numbers(reference), use_decimal=True, sort_keys=True, separators=(",", ":")
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1, "a": 2}', "appears more than once"),
        ('{"a": NaN}', "is not a JSON number"),
        ('{"a": Infinity}', "is not a JSON number"),
        ('{"a": 1,}', "not valid JSON"),
    ],
)
def test_the_kept_decoder_refuses_what_loads_refuses(text: str, message: str) -> None:
    with pytest.raises(InvalidJson, match=message):
        jsonio.parse_object(text.encode())


def test_one_document_does_not_leak_into_the_next() -> None:
    """The decoder is shared: a refused document leaves nothing behind for the next one."""
    with pytest.raises(InvalidJson):
        jsonio.parse_object(b'{"k": 1, "k": 2}')
    assert jsonio.parse_object(b'{"k": 1}') == {"k": Decimal(1)}


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ('{"a": "\\udfff"}', True),  # a lone low surrogate
        ('{"a": "\\uD800x"}', True),  # upper-case hex
        ('{"a": "\\ud83d\\ude00"}', False),  # a pair: one character
        ('{"a": ' + "[" * 63 + "]" * 63 + "}", False),  # 64 levels: the limit
        ('{"a": ' + "[" * 64 + "]" * 64 + "}", True),  # 65
        ('{"a": "' + "[" * 100 + '"}', False),  # brackets inside a string only make the check look
    ],
    ids=["lone-surrogate", "upper-case", "pair", "depth-64", "depth-65", "brackets-in-text"],
)
def test_the_walk_is_skipped_only_when_it_could_find_nothing(text: str, refused: bool) -> None:
    if refused:
        assert jsonio._may_hold_surrogate_or_depth(text)
        with pytest.raises(InvalidJson):
            jsonio.parse_object(text.encode())
    else:
        jsonio.parse_object(text.encode())
