"""jsonio keeps its decoders and encoders for every document: they must read and write exactly what simplejson's own
`loads`/`dumps` do with the same options, which build a new one per call. The standard library's decoder reads every
body first and its encoder writes the canonical text of a body without numbers: both are held to simplejson's, on
documents and texts hypothesis makes, refusals included (a refused body is worded by simplejson).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
import simplejson
from hypothesis import given
from hypothesis import strategies as st
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


# JSON values as bodies hold them: any text (surrogate escapes, control characters, quotes, non-BMP), numbers of any
# spelling, nesting
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.text(),
    st.integers(),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20
)
_OBJECTS = st.dictionaries(st.text(), _VALUES, max_size=5)


def _outcome(read: Any, text: Any) -> tuple[str, Any]:
    try:
        return "read", read(text)
    except InvalidJson as exc:
        return "refused", str(exc)


def _simplejson_reading(text: str) -> Any:
    try:
        return jsonio._REFUSAL_DECODER.decode(text)
    except simplejson.JSONDecodeError as exc:
        raise InvalidJson(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc


@given(_OBJECTS.map(lambda document: simplejson.dumps(document, ensure_ascii=False)))
def test_every_body_reads_as_simplejson_reads_it(text: str) -> None:
    ours = jsonio._BODY_DECODER.decode(text)
    reference = _simplejson_reading(text)
    assert ours == reference
    assert simplejson.dumps(ours, use_decimal=True) == simplejson.dumps(reference, use_decimal=True)  # types too


_TEXTS = st.one_of(
    _OBJECTS.map(lambda document: simplejson.dumps(document)),
    st.text(alphabet='{}[]":,.-+eE0123456789 \\tnrufalsNIy\u00e9', max_size=30),
)
_ENDINGS = st.sampled_from(["", ",", "}", '"', "x"])


@given(_TEXTS.flatmap(lambda text: st.tuples(st.just(text), st.integers(0, len(text)), _ENDINGS)))
def test_a_damaged_body_is_read_or_refused_as_simplejson_would(case: tuple[str, int, str]) -> None:
    """Cut, extended or left as it is: whatever simplejson reads, parse_object reads the same; whatever it refuses,
    parse_object refuses with its words."""
    text, cut, extra = case
    damaged = text[:cut] + extra
    ours = _outcome(jsonio.parse_object, damaged.encode("utf-8", "surrogatepass"))
    reference = _outcome(_simplejson_reading, damaged)
    if reference[0] == "read" and not isinstance(reference[1], dict):
        assert ours == ("refused", "body must be one JSON object")
    elif ours[0] == "refused" and reference[0] == "read":
        # the walk after reading refuses lone surrogates and deep nesting, whoever read the text
        assert "surrogate" in ours[1] or "nested" in ours[1]
    else:
        assert ours == reference


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"a": 1,}', "Illegal trailing comma before end of object"),
        ("[1,]", "Illegal trailing comma before end of array"),
        ('{"a": 1', "Expecting ',' delimiter or '}'"),
    ],
)
def test_a_refusal_is_worded_by_simplejson(text: str, words: str) -> None:
    with pytest.raises(InvalidJson, match=re.escape(words)):
        jsonio.parse_object(text.encode())


@given(_OBJECTS)
def test_the_canonical_text_is_simplejsons(document: dict[str, Any]) -> None:
    """Written by the standard library when its numbers are whole once normalised, by simplejson when one is not: the
    same text either way, so fingerprints (and the write ids made from them) stay what they were."""
    parsed = jsonio.parse_object(simplejson.dumps(document).encode("utf-8", "surrogatepass"))
    reference = simplejson.dumps(
        jsonio._normalise_numbers(parsed), use_decimal=True, sort_keys=True, separators=(",", ":")
    )
    assert jsonio.canonical(parsed) == reference


# what answers hold: JSON values with Decimals as items give them back (whole numbers, fractions, exponents), ints,
# tuples, and texts that look like numbers
_ANSWER_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.text(),
        st.integers(),
        st.decimals(allow_nan=False, allow_infinity=False),
        st.integers().map(Decimal),
        st.sampled_from([Decimal("-0"), Decimal("0"), Decimal("1E+2"), Decimal("960"), Decimal("-5"), Decimal("0.0")]),
    ),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_ANSWER_VALUES)
def test_an_answer_is_written_as_simplejson_writes_it(value: Any) -> None:
    """By the standard library when its numbers are whole (as written), by simplejson when one is not: the same text
    either way."""
    assert jsonio.dumps(value) == simplejson.dumps(value, use_decimal=True, ensure_ascii=False, separators=(",", ":"))


def test_whole_numbers_go_to_the_standard_library_and_fractions_to_simplejson() -> None:
    with pytest.raises(TypeError):
        jsonio._COMPACT_WHOLE_NUMBERS.encode({"a": Decimal("1.5")})
    with pytest.raises(TypeError):
        jsonio._COMPACT_WHOLE_NUMBERS.encode({"a": Decimal("-0")})  # int would write 0
    assert (
        jsonio._COMPACT_WHOLE_NUMBERS.encode({"capacityWh": Decimal(960), "n": Decimal(-5)})
        == '{"capacityWh":960,"n":-5}'
    )
