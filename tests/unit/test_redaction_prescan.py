"""The log line's pre-scan (`might_hold_secret`) must let through to the masking path every line the former
case-insensitive regex let through: it may send more lines there (they are then only walked), never fewer.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from products_api.api.redaction import might_hold_secret

# The pre-scan as it was: a case-insensitive regex over the serialised line.
FORMER = re.compile(
    r"authorization|bearer|basic|tp_|security|credential=|signature=|AKIA|ASIA|secret|password|api[-_]?key|cookie|token",
    re.I,
)
WORDS = [
    "Authorization",
    "BEARER",
    "basic",
    "tp_",
    "Security",
    "credential=",
    "Signature=",
    "AKIA",
    "asia",
    "SECRET",
    "passWord",
    "api_key",
    "API-KEY",
    "apikey",
    "Cookie",
    "token",
    "\u017fecret",
    "\u212aey",
]


@pytest.mark.parametrize(
    "text",
    [
        '{"message":"x","authorization":"Bearer abc"}',
        "x-amz-security-token",
        "AKIAABCDEFGHIJKLMNOP",
        "\u017fecret",  # long s: re.I matched it as 's'
        "API\u212aEY",  # Kelvin sign: re.I matched it as 'k'
        "COOKIE",
    ],
)
def test_lines_with_a_possible_secret_take_the_masking_path(text: str) -> None:
    assert FORMER.search(text)
    assert might_hold_secret(text)


def test_a_plain_request_line_skips_it() -> None:
    line = '{"level":"INFO","message":"request completed","status":200,"outcome":"ProductUpdated"}'
    assert not might_hold_secret(line)


@given(st.text(), st.sampled_from(["", *WORDS]), st.text())
def test_never_fewer_lines_than_the_former_regex(before: str, word: str, after: str) -> None:
    text = before + word + after
    if FORMER.search(text):
        assert might_hold_secret(text)
