"""The text validators refuse exactly Unicode's control characters and lone surrogates."""

import json
import sys
import unicodedata
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from reex.validators import validate_no_control_characters, validate_single_line

BLNS = Path("/work/shared/data/xss/blns/blns.json")


def _refused_by_unicodedata(text: str, *, allowed: str) -> bool:
    """The rule as first written: any character of category Cc or Cs, but ``allowed``."""
    return any(unicodedata.category(char) in {"Cc", "Cs"} and char not in allowed for char in text)


def _refuses(validator, text: str) -> bool:
    try:
        validator(text)
    except ValidationError as error:
        assert error.code == "control_characters"
        return True
    return False


@pytest.mark.parametrize(
    ("validator", "allowed"),
    [(validate_single_line, ""), (validate_no_control_characters, "\n\t")],
)
def test_every_code_point_is_judged_as_unicodedata_judges_it(validator, allowed):
    differing = [
        hex(point)
        for point in range(sys.maxunicode + 1)
        if _refuses(validator, f"a{chr(point)}b")
        != _refused_by_unicodedata(chr(point), allowed=allowed)
    ]
    assert differing == []


@pytest.mark.skipif(not BLNS.exists(), reason="the naughty strings list is not on this machine")
@pytest.mark.parametrize(
    ("validator", "allowed"),
    [(validate_single_line, ""), (validate_no_control_characters, "\n\t")],
)
def test_naughty_strings_are_judged_as_unicodedata_judges_them(validator, allowed):
    strings = json.loads(BLNS.read_text())
    assert len(strings) > 500
    refused = [text for text in strings if _refuses(validator, text)]
    assert refused == [text for text in strings if _refused_by_unicodedata(text, allowed=allowed)]
    assert refused  # the list holds control characters: the check compared something


def test_newline_and_tab_are_text_but_not_a_line():
    validate_no_control_characters("two\nlines\tand a tab")
    with pytest.raises(ValidationError):
        validate_single_line("two\nlines")
    with pytest.raises(ValidationError):
        validate_no_control_characters("a\rb")
