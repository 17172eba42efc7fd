"""Field validators shared by the model, the API and the reader's form."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.deconstruct import deconstructible

# The refused characters are Unicode's control characters (category Cc: U+0000-U+001F and
# U+007F-U+009F, a set Unicode's stability policy keeps fixed) and lone surrogates (Cs:
# U+D800-U+DFFF), which PostgreSQL cannot store. One pattern scans a text in C, where a
# unicodedata lookup per character cost a microsecond each; tests/test_validators.py checks
# the patterns against unicodedata over every code point.
_REFUSED_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same but tab (U+0009) and newline (U+000A).
_REFUSED_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def validate_no_control_characters(value: str) -> None:
    """Refuse NUL and other control characters; newline and tab are text."""
    if _REFUSED_IN_TEXT.search(value):
        raise ValidationError("Control characters are not allowed.", code="control_characters")


def validate_single_line(value: str) -> None:
    """Refuse every control character, newlines included."""
    if _REFUSED_IN_LINE.search(value):
        raise ValidationError("Control characters are not allowed.", code="control_characters")


@deconstructible
class HttpUrlValidator(URLValidator):
    """A website address: http or https only."""

    def __init__(self) -> None:
        super().__init__(
            schemes=["http", "https"], message="Enter a valid http:// or https:// address."
        )
