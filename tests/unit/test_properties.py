"""Properties of the patch: any valid body stores exactly what it sends (normalised as documented) and nothing
else; the patch model keeps exactly the keys sent and refuses any other; canonical JSON is one text per value.

The end-to-end property runs on moto only (DynamoDB Local adds nothing to field storage that test_patch_contract
does not cover there, and it is slower). Hypothesis shares the function-scoped `api` fixture between examples,
so every example brings its own company, credential and product: nothing one example stores meets another.
"""

from __future__ import annotations

import random
import string
import uuid
from decimal import Decimal
from typing import Any

import pytest
import simplejson
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from products_api.core import jsonio
from products_api.core.dynamodb import from_attribute_values, to_attribute_values
from products_api.products.models import ProductPatch, company_partition, model_key, model_lock_sort_key
from pydantic import ValidationError
from support import Api

FIELDS = ("name", "model", "description", "defaultFieldValues", "imageUrls", "status", "sourceLocale")
LOCALES = ("en", "de", "fr", "ja", "pt", "zh", "es")
# DynamoDB numbers: at most 38 significant digits, magnitude from 1E-130 to 9.99...E+125 (README, "Numbers").
MAX_DIGITS = 38
MIN_ADJUSTED, MAX_ADJUSTED = -130, 125
# boto3's TypeSerializer works in a context whose smallest exponent is -165 (Emin -128, 38 digits): a number with
# digits below 1E-165, such as 38 digits at 1E-130, is inside that range yet refused by boto3. The property keeps
# to what boto3 can carry; test_numbers_at_the_edges_of_the_range is about the rest.
MIN_EXPONENT = -165

# --- strategies ----------------------------------------------------------------------------------------

# Text without control, format or line/paragraph separator characters, nor lone surrogates: what a single-line
# field (name, model) accepts.
_visible = st.characters(exclude_categories=("Cc", "Cf", "Zl", "Zp", "Cs"))
_padding = st.text(st.sampled_from(" \t\n\r\u00a0\u2003\u3000"), max_size=3)


def _trimmed_text(max_size: int) -> st.SearchStrategy[str]:
    """Text with something besides whitespace, wrapped in whitespace the API must trim."""
    core = st.text(_visible, min_size=1, max_size=max_size).filter(lambda text: text.strip() != "")
    return st.tuples(_padding, core, _padding).map("".join)


def _random_case(code: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(code), max_size=len(code)).map(
        lambda upper: "".join(c.upper() if u else c for c, u in zip(code, upper, strict=True))
    )


@st.composite
def _storable_decimals(draw: st.DrawFn) -> Decimal:
    """Exact decimals anywhere in DynamoDB's range, from 1 to 38 significant digits."""
    digits = draw(st.integers(min_value=1, max_value=MAX_DIGITS))
    mantissa = draw(st.integers(min_value=10 ** (digits - 1), max_value=10**digits - 1))
    adjusted = draw(st.integers(min_value=max(MIN_ADJUSTED, MIN_EXPONENT + digits - 1), max_value=MAX_ADJUSTED))
    sign = draw(st.sampled_from(["", "-"]))
    return Decimal(f"{sign}{mantissa}E{adjusted - (digits - 1)}")


_numbers: st.SearchStrategy[int | Decimal] = st.one_of(
    st.integers(min_value=-(10**MAX_DIGITS) + 1, max_value=10**MAX_DIGITS - 1),
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False),
    _storable_decimals(),
)
_member_names = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8)
_json_leaves: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), _numbers, st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
)


def _json_values(depth: int) -> st.SearchStrategy[Any]:
    if depth == 0:
        return _json_leaves
    inner = _json_values(depth - 1)
    return st.one_of(
        _json_leaves,
        st.lists(inner, max_size=3),
        st.dictionaries(_member_names, inner, max_size=3),
    )


_default_field_values = st.dictionaries(_member_names, _json_values(3), max_size=4)

_host_label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)
_path_segment = st.text(string.ascii_letters + string.digits + "-._~", max_size=8)
_image_urls = st.lists(
    st.builds(
        lambda scheme, labels, tld, port, segments: f"{scheme}://{'.'.join(labels)}.{tld}{port}/{'/'.join(segments)}",
        st.sampled_from(["http", "https", "HTTP", "Https"]),
        st.lists(_host_label, min_size=1, max_size=3),
        st.sampled_from(["com", "example", "org"]),
        st.sampled_from(["", ":8080"]),
        st.lists(_path_segment, max_size=3),
    ),
    max_size=20,
    unique=True,
)

_field_values: dict[str, st.SearchStrategy[Any]] = {
    "name": _trimmed_text(60),
    "model": _trimmed_text(40),
    "description": st.one_of(st.none(), st.text(st.one_of(_visible, st.sampled_from("\t\n\r")), max_size=80)),
    "defaultFieldValues": _default_field_values,
    "imageUrls": _image_urls,
    "status": st.sampled_from(["active", "archived"]),
    "sourceLocale": st.sampled_from(LOCALES).flatmap(_random_case),
}
valid_patches: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries({}, optional=_field_values)


# --- comparisons ---------------------------------------------------------------------------------------


def same_json(left: Any, right: Any) -> bool:
    """Equal as JSON values: numbers by exact value (1 == 1.0), but never true == 1 or null == 0."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | Decimal) or isinstance(right, int | Decimal):
        return isinstance(left, int | Decimal) and isinstance(right, int | Decimal) and Decimal(left) == Decimal(right)
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same_json(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same_json(a, b) for a, b in zip(left, right, strict=True))
    return type(left) is type(right) and left == right


def expected_stored(before: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The product's fields after `patch`, as the README documents the normalisations."""
    after = {field: before[field] for field in FIELDS if field in before}
    for field, value in patch.items():
        if field in {"name", "model"}:
            after[field] = value.strip()
        elif field == "sourceLocale":
            after[field] = value.lower()
        elif field == "description" and value is None:
            after.pop(field, None)
        else:
            after[field] = value
    return after


# --- the patch through the handler, read back from the table --------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("backend", ["moto"], indirect=True)
@PROPERTY_SETTINGS
@given(patch=valid_patches)
def test_a_valid_patch_stores_exactly_its_fields(api: Api, patch: dict[str, Any]) -> None:
    company = f"PROP-{uuid.uuid4().hex[:12]}"
    token = f"tp_prop_{uuid.uuid4().hex}"
    credential = api.add_credential(token, company_id=company)
    product = api.add_product(company_id=company)
    before = api.stored_item(product.id, company)
    assert before is not None

    response = api.patch(product.id, simplejson.dumps(patch, use_decimal=True), token=token)

    assert response.status == 200, (patch, response.body)
    after = api.stored_item(product.id, company)
    assert after is not None
    if not patch:
        assert after == before
        assert response.json["version"] == 1
        return
    expected = expected_stored(before, patch)
    stored_fields = {field: after[field] for field in FIELDS if field in after}
    assert same_json(stored_fields, expected), (stored_fields, expected)
    # everything else is untouched, and the write counted once, in the writer's name
    written = {*FIELDS, "version", "updatedAt", "modelKey", "writeId", "updatedBy"}
    if "model" in patch and model_key(patch["model"].strip()) != model_key(before["model"]):
        # a rename's copy of the version it made, read back for its answer (README, Design)
        assert after["renameVersion"] == 2
        written |= {"renameWriteId", "renameVersion"} | {k for k in after if k.startswith("renameState.")}
    assert {k: v for k, v in after.items() if k not in written} == {k: v for k, v in before.items() if k not in written}
    assert after["version"] == 2
    assert after["updatedBy"] == credential.credentialId
    assert after["modelKey"] == model_key(expected["model"])
    # the answer is the product as stored (description null when cleared)
    answered = response.json
    assert same_json({field: answered[field] for field in FIELDS}, {"description": None, **expected})
    # the model lock followed the model
    page = api.client.query(
        TableName=api.settings.products_table_name,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :lock)",
        ExpressionAttributeValues=to_attribute_values({":pk": company_partition(company), ":lock": "MODEL#"}),
        ConsistentRead=True,
    )
    locks = {item["sk"]: item["productId"] for item in map(from_attribute_values, page["Items"])}
    assert locks == {model_lock_sort_key(model_key(expected["model"])): product.id}


EDGE_NUMBERS = [
    "1E-130",
    "-1E-130",
    "9.9999999999999999999999999999999999999E+125",
    "-9.9999999999999999999999999999999999999E+125",
    "1.2345678901234567890123456789012345678E-128",
    "1.234567890123456789012345678901234567E-130",
    "-1.2345678901234567890123456789012345678E-130",
]


@pytest.mark.parametrize("backend", ["moto"], indirect=True)
@pytest.mark.parametrize("number", EDGE_NUMBERS)
def test_numbers_at_the_edges_of_the_range(api: Api, number: str) -> None:
    """README: numbers of up to 38 digits between 1E-130 and 9.99E+125 are stored exactly, others refused with a
    clear message. Either is fine at the edges; a 500 is not.
    """
    product = api.add_product()
    response = api.patch(product.id, f'{{"defaultFieldValues": {{"n": {number}}}}}')
    if response.status == 400:
        body = response.json
        assert body["code"] == "validation_error" and body["details"][0]["field"] == "defaultFieldValues", body
        return
    assert response.status == 200, response.body
    stored = api.stored_item(product.id)
    assert stored is not None and stored["defaultFieldValues"]["n"] == Decimal(number)


# --- the patch model alone -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(patch=valid_patches)
def test_changes_hold_exactly_the_keys_sent(patch: dict[str, Any]) -> None:
    changes = ProductPatch.model_validate(patch).changes()
    assert set(changes) == set(patch)
    for field, value in patch.items():
        if field == "description" and value is None:
            assert changes[field] is None
        elif field in {"name", "model"}:
            assert changes[field] == value.strip()
        elif field == "sourceLocale":
            assert changes[field] == value.lower()
        else:
            assert same_json(changes[field], value)


_unknown_keys = st.one_of(
    st.sampled_from(
        [
            "_id",
            "id",
            "version",
            "companyId",
            "createdAt",
            "updatedAt",
            "image_urls",
            "default_field_values",
            "source_locale",
            "Name",
            "MODEL",
            "imageurls",
            "",
        ]
    ),
    st.text(max_size=20),
).filter(lambda key: key not in FIELDS)


@settings(max_examples=200, deadline=None)
@given(patch=valid_patches, key=_unknown_keys, value=_json_leaves)
def test_an_unknown_key_is_refused(patch: dict[str, Any], key: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        ProductPatch.model_validate({**patch, key: value})
    assert any(error["loc"] == (key,) for error in caught.value.errors()), caught.value.errors()


# --- canonical JSON --------------------------------------------------------------------------------------

_any_numbers = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**20), max_value=10**20),
    st.builds(lambda m, e: Decimal(f"{m}E{e}"), st.integers(-(10**12), 10**12), st.integers(-40, 40)),
).map(Decimal)
_any_leaves: st.SearchStrategy[Any] = st.one_of(st.none(), st.booleans(), _any_numbers, st.text(max_size=6))


def _any_json(depth: int) -> st.SearchStrategy[Any]:
    if depth == 0:
        return _any_leaves
    inner = _any_json(depth - 1)
    return st.one_of(_any_leaves, st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3))


_documents = st.dictionaries(st.text(max_size=4), _any_json(3), max_size=4)


def spell_number(number: Decimal, rng: random.Random) -> str:
    """One of the many JSON spellings of `number`: 1, 1.0, 1E0, 10e-1, 0.1E+1 ..."""
    sign, digit_tuple, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).lstrip("0") or "0"
    if digits != "0":
        padding = rng.randrange(4)
        digits, exponent = digits + "0" * padding, exponent - padding
    else:
        exponent -= rng.randrange(3)
    text: str
    if rng.random() < 0.5:
        marker = rng.choice(["E", "e"])
        shown = rng.choice([str(exponent), f"+{exponent}" if exponent >= 0 else str(exponent)])
        text = f"{digits}{marker}{shown}"
    elif exponent >= 0:
        text = digits + "0" * exponent + rng.choice(["", ".0", ".000"]) if digits != "0" else "0"
    else:
        point = len(digits) + exponent
        text = f"{digits[:point]}.{digits[point:]}" if point > 0 else "0." + "0" * -point + digits
    return ("-" if sign else "") + text


def render(value: Any, rng: random.Random) -> str:
    """JSON text of `value` with keys shuffled, numbers respelled and whitespace sprinkled."""
    space = rng.choice(["", " ", "\n  ", "\t"])
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        inner = f",{space}".join(f"{simplejson.dumps(key)}{space}:{space}{render(item, rng)}" for key, item in items)
        return "{" + space + inner + space + "}"
    if isinstance(value, list):
        return "[" + f",{space}".join(render(item, rng) for item in value) + "]"
    if isinstance(value, Decimal):
        return spell_number(value, rng)
    return simplejson.dumps(value, ensure_ascii=rng.random() < 0.5)


@settings(max_examples=200, deadline=None)
@given(document=_documents, seeds=st.tuples(st.integers(0, 2**32), st.integers(0, 2**32)))
def test_equal_json_values_have_one_canonical_text(document: dict[str, Any], seeds: tuple[int, int]) -> None:
    texts = [render(document, random.Random(seed)) for seed in seeds]
    parsed = [jsonio.parse_object(text.encode("utf-8")) for text in texts]
    assert all(same_json(value, document) for value in parsed), texts
    assert jsonio.canonical(parsed[0]) == jsonio.canonical(parsed[1]), texts


def _mutations(value: Any) -> st.SearchStrategy[Any]:
    """Values that differ from `value` somewhere, often only just (a digit, a type, a key)."""
    if isinstance(value, dict) and value:
        key = st.sampled_from(sorted(value))
        return st.one_of(
            key.flatmap(lambda k: _mutations(value[k]).map(lambda new: {**value, k: new})),
            key.map(lambda k: {name: item for name, item in value.items() if name != k}),
            key.map(lambda k: {**{n: i for n, i in value.items() if n != k}, k + "\u0301": value[k]}),
        )
    if isinstance(value, list) and value:
        index = st.integers(0, len(value) - 1)
        return st.one_of(
            index.flatmap(lambda i: _mutations(value[i]).map(lambda new: [*value[:i], new, *value[i + 1 :]])),
            st.just(value[:-1]),
            st.just([*value, None]),
        )
    if isinstance(value, Decimal):
        return st.sampled_from(
            [value + 1, value.next_plus(), value * 10 if value else Decimal(1), str(value), value == 0]
        )
    if isinstance(value, bool):
        return st.sampled_from([not value, Decimal(int(value)), str(value).lower()])
    if value is None:
        return st.sampled_from([Decimal(0), False, "", "null", []])
    if isinstance(value, str):
        return st.sampled_from([value + "x", value.upper() if value != value.upper() else value + " ", Decimal(0)])
    return st.sampled_from([{}, [None], None])


@settings(max_examples=200, deadline=None)
@given(data=st.data(), document=_documents)
def test_different_json_values_have_different_canonical_texts(data: st.DataObject, document: dict[str, Any]) -> None:
    other = data.draw(_mutations(document))
    assume(isinstance(other, dict) and not same_json(other, document))
    left = jsonio.parse_object(render(document, random.Random(0)).encode("utf-8"))
    right = jsonio.parse_object(render(other, random.Random(1)).encode("utf-8"))
    assert jsonio.canonical(left) != jsonio.canonical(right), (document, other)
