"""The text checks of names, models and descriptions clear the usual text with one `str.isprintable()` call; that is
only right while isprintable() is False for every character those checks refuse, on the interpreter that runs them.
"""

from __future__ import annotations

import sys
import unicodedata

import pytest
from products_api.products import fields
from pydantic_core import PydanticCustomError

REFUSED_ON_ONE_LINE = {"Cc", "Cf", "Zl", "Zp"}


def test_isprintable_is_false_for_every_refused_character() -> None:
    printable_yet_refused = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in REFUSED_ON_ONE_LINE and chr(code).isprintable()
    ]
    assert printable_yet_refused == []


@pytest.mark.parametrize("char", ["\u200b", "\u202e", "\u2028", "\u2029", "\x07", "\n", "\ufeff"])
def test_a_refused_character_is_still_found(char: str) -> None:
    with pytest.raises(PydanticCustomError):
        fields._single_line(f"Pack{char}48V")


@pytest.mark.parametrize("text", ["Li-Ion 48V Battery Pack", "Grüße 製品", "a\u00a0b", "x\ue000y"])
def test_text_without_refused_characters_passes(text: str) -> None:
    # a no-break space (Zs) and a private-use character (Co) are not printable, yet allowed: the slow path lets them by
    assert fields._single_line(text) == text


def test_a_description_keeps_its_line_breaks_and_tabs() -> None:
    assert fields._multi_line("one\n\ttwo\r\n") == "one\n\ttwo\r\n"
    with pytest.raises(PydanticCustomError):
        fields._multi_line("one\x00two")


def test_printable_text_holds_no_whitespace_but_the_space() -> None:
    """The image URL check clears printable text without a space in one call: that needs this of the interpreter."""
    printable_whitespace = [
        f"U+{code:04X}" for code in range(sys.maxunicode + 1) if chr(code).isspace() and chr(code).isprintable()
    ]
    assert printable_whitespace == ["U+0020"]
