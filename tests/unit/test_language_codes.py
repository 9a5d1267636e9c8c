"""sourceLocale's ISO 639-1 set is a literal in the layer (no language database at cold start); pycountry, a dev
dependency, holds the standard's list it must equal.
"""

from __future__ import annotations

import pycountry
import pytest
from products_api.products.language_codes import ISO_639_1
from products_api.products.models import ProductPatch
from pydantic import ValidationError


def test_the_literal_is_pycountrys_iso_639_1_list() -> None:
    standard = {language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2")}
    assert len(standard) == 184
    assert set(ISO_639_1) == standard


@pytest.mark.parametrize(("sent", "stored"), [("en", "en"), ("DE", "de"), ("Zu", "zu"), ("aa", "aa")])
def test_codes_are_accepted_case_insensitively_and_stored_lower_case(sent: str, stored: str) -> None:
    patch = ProductPatch.model_validate({"sourceLocale": sent})
    assert patch.changes() == {"sourceLocale": stored}


@pytest.mark.parametrize("sent", ["xx", "eng", "e", "", "en-GB", " en"])
def test_other_values_fail_with_the_language_alpha2_error(sent: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ProductPatch.model_validate({"sourceLocale": sent})
    (error,) = caught.value.errors()
    assert error["type"] == "language_alpha2"
    assert error["msg"] == "Invalid language alpha2 code"
    assert error["loc"] == ("sourceLocale",)
