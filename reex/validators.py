"""Field validators shared by the model, the API and the reader's form."""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.deconstruct import deconstructible

# Lone surrogates cannot be stored (PostgreSQL refuses them), so they are refused here too.
_REFUSED_CATEGORIES = {"Cc", "Cs"}


def _has_refused_character(value: str, *, allowed: str) -> bool:
    return any(
        unicodedata.category(char) in _REFUSED_CATEGORIES and char not in allowed for char in value
    )


def validate_no_control_characters(value: str) -> None:
    """Refuse NUL and other control characters; newline and tab are text."""
    if _has_refused_character(value, allowed="\n\t"):
        raise ValidationError("Control characters are not allowed.", code="control_characters")


def validate_single_line(value: str) -> None:
    """Refuse every control character, newlines included."""
    if _has_refused_character(value, allowed=""):
        raise ValidationError("Control characters are not allowed.", code="control_characters")


@deconstructible
class HttpUrlValidator(URLValidator):
    """A website address: http or https only."""

    def __init__(self) -> None:
        super().__init__(
            schemes=["http", "https"], message="Enter a valid http:// or https:// address."
        )
