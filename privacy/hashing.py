"""The one way an address is kept after erasure: a keyed hash that cannot be read back.

HMAC-SHA256 keyed with ``REEX_PRIVACY_HASH_KEY`` (by default the SECRET_KEY): the same
address always gives the same hash, so an erased address that bounced can still be
recognised, but nobody without the key can test guesses against the stored hashes.
"""

from django.conf import settings
from django.utils.crypto import salted_hmac

_SALT = "reex.privacy.email"


def email_hash(email: str) -> str:
    """Return the hex hash of the address, whatever its case or surrounding spaces."""
    value = email.strip().lower()
    return salted_hmac(
        _SALT, value, secret=settings.REEX_PRIVACY_HASH_KEY, algorithm="sha256"
    ).hexdigest()
