"""The project's one rule for email addresses.

An address is stored and compared stripped of surrounding spaces and lower-cased whole.
Mail providers treat the local part case-insensitively in practice, and one lower-case
form lets an exact, indexed comparison find an address however a reader typed it.
"""

from django.core.validators import validate_email


def email_normalise(email: str) -> str:
    """Return the address in its stored form (no validation)."""
    return email.strip().lower()


def email_clean(email: str) -> str:
    """Return the address in its stored form; raise ValidationError when it is not one."""
    email = email_normalise(email)
    validate_email(email)
    return email
