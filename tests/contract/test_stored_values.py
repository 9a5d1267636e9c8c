"""Issue 10: every value the contract allows is stored, and look-alikes cannot dodge uniqueness. Regression tests for
defects 5 (a model whose key outgrew DynamoDB's sort-key limit answered 500), 6 (numbers DynamoDB holds exactly
answered 500, and the CLI showed a traceback) and 7 (zero-width, bidi-override and full-width variants of a model were
accepted beside it).
"""

from __future__ import annotations

import json
import re
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from products_api.products.models import REFUSED_BMP_RANGES, model_key, model_lock_sort_key
from products_api_local.cli import main
from support import EVENT_PRODUCT_ID, Api

# --- 5 and 7. model keys -----------------------------------------------------------------------------------------


def test_a_model_whose_key_outgrows_the_sort_key_limit_is_stored(api: Api) -> None:
    long_model = "\U0001d160" * 100  # NFKC decomposes each into three code points: a 1200-byte key
    assert len(model_key(long_model).encode()) > 1024
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    response = api.patch(EVENT_PRODUCT_ID, {"model": long_model})
    assert response.status == 200, response.body
    assert response.json["model"] == long_model
    (lock,) = api.model_locks()
    assert lock == model_lock_sort_key(model_key(long_model)) and len(lock.encode()) < 100
    other = api.add_product(model="OTHER")
    taken = api.patch(other.id, {"model": long_model})
    assert taken.status == 409 and taken.json["code"] == "duplicate_model"
    assert api.patch(EVENT_PRODUCT_ID, {"model": "SHORT AGAIN"}).status == 200
    assert api.model_locks() == {"MODEL#short again": EVENT_PRODUCT_ID, "MODEL#other": other.id}


@pytest.mark.parametrize(
    "look_alike",
    ["ABC\u200b", "A\u202eCBA", "\u200dABC", "AB\u2028C", "A\u00adBC", "ABC\U000e0041"],
    ids=["zero-width-space", "bidi-override", "zero-width-joiner", "line-separator", "soft-hyphen", "tag"],
)
@pytest.mark.parametrize("field", ["model", "name"])
def test_invisible_and_reordering_characters_are_refused(api: Api, look_alike: str, field: str) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="ABC")
    response = api.patch(EVENT_PRODUCT_ID, {field: look_alike})
    assert response.status == 400, response.body
    (detail,) = response.json["details"]
    assert detail["field"] == field
    assert (
        "format" in detail["message"]
        and f"U+{ord(next(c for c in look_alike if ord(c) > 0x7F)):04X}" in (detail["message"])
    )
    assert api.stored_item(EVENT_PRODUCT_ID)["version"] == 1  # type: ignore[index]


@pytest.mark.parametrize(
    "variant", ["\uff21\uff22\uff23", "abc", "\u1d2c\u1d2e\u1d9c"], ids=["full-width", "case", "modifier"]
)
def test_compatibility_variants_share_the_model_key(api: Api, variant: str) -> None:
    api.add_product(model="ABC")
    mine = api.add_product(model="OTHER")
    response = api.patch(mine.id, {"model": variant})
    assert response.status == 409, response.body
    assert response.json["code"] == "duplicate_model"


def test_the_schema_pattern_lists_every_refused_bmp_character() -> None:
    """The JSON schema's pattern (what fuzzers and clients see) names the same characters the validator refuses."""
    listed = re.compile(f"[{REFUSED_BMP_RANGES}]")
    refused = {chr(code) for code in range(0x10000) if unicodedata.category(chr(code)) in {"Cc", "Cf", "Zl", "Zp"}}
    matched = {chr(code) for code in range(0x10000) if listed.fullmatch(chr(code))}
    assert matched == refused


# --- 6. numbers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100000000000000000000000000000000000000", Decimal("1E+38")),
        ("1.0000000000000000000000000000000000000000000", Decimal(1)),
        ("-9.9999999999999999999999999999999999999E+125", Decimal("-9.9999999999999999999999999999999999999E+125")),
        ("12345678901234567890123456789012345678000", Decimal("1.2345678901234567890123456789012345678E+40")),
    ],
)
def test_numbers_dynamodb_holds_exactly_are_stored_exactly(api: Api, text: str, value: Decimal) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    response = api.patch(EVENT_PRODUCT_ID, f'{{"defaultFieldValues":{{"n":{text}}}}}')
    assert response.status == 200, response.body
    assert response.json["defaultFieldValues"]["n"] == value
    stored = api.stored_item(EVENT_PRODUCT_ID)
    assert stored is not None and stored["defaultFieldValues"]["n"] == value
    again = api.patch(EVENT_PRODUCT_ID, {"name": "read back"})
    assert again.status == 200 and again.json["defaultFieldValues"]["n"] == value


@pytest.mark.parametrize(
    "text", ["1.00000000000000000000000000000000000001", "1E+126", "1E-131", "123456789012345678901234567890123456789"]
)
def test_numbers_dynamodb_cannot_hold_are_a_clear_400(api: Api, text: str) -> None:
    api.add_product(EVENT_PRODUCT_ID, model="OLD")
    response = api.patch(EVENT_PRODUCT_ID, f'{{"defaultFieldValues":{{"n":{text}}}}}')
    assert response.status == 400, response.body
    (detail,) = response.json["details"]
    assert detail["field"] == "defaultFieldValues" and "cannot be stored exactly" in detail["message"]


def test_cli_import_stores_exact_numbers_and_refuses_others_clearly(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.json"
    good.write_text(
        '[{"name":"N","model":"M1","sourceLocale":"en","defaultFieldValues":'
        '{"big":100000000000000000000000000000000000000,"one":1.0000000000000000000000000000000000000000000}}]'
    )
    assert main(["products", "import", str(good), "--company", "ACME"]) == 0
    (product_id,) = capsys.readouterr().out.split()
    stored = api.stored_item(product_id)
    assert stored is not None
    assert stored["defaultFieldValues"] == {"big": Decimal("1E+38"), "one": Decimal(1)}
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps([{"name": "N", "model": "M2", "sourceLocale": "en"}])[:-2] + ',"defaultFieldValues":{"x":1E+200}}]'
    )
    assert main(["products", "import", str(bad), "--company", "ACME"]) != 0
    errors = capsys.readouterr().err
    assert "cannot be stored exactly" in errors
    assert "Traceback" not in errors
