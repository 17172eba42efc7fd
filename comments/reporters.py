"""Who reported a comment, as a keyed hash: reports are told apart without keeping an IP."""

import ipaddress

from django.conf import settings
from django.utils.crypto import salted_hmac

_READER_SALT = "comments.flag.reader"
_SOURCE_SALT = "comments.flag.source"
# One IPv6 subscriber usually holds a whole /64: count it as one source.
_IPV6_SOURCE_PREFIX = 64


def _hash(salt: str, value: str) -> str:
    key = settings.REEX_PRIVACY_HASH_KEY
    return salted_hmac(salt, value, secret=key, algorithm="sha256").hexdigest()


def _network(ip: str | None) -> str:
    if not ip:
        return "unknown"
    address = ipaddress.ip_address(ip)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{_IPV6_SOURCE_PREFIX}", strict=False))
    return str(address)


def reporter_fingerprint(*, ip: str | None, user_agent: str, reader_id: str = "") -> str:
    """Return the hash naming one reader: the embed's anonymous id, else IP and user agent."""
    if reader_id:
        return _hash(_READER_SALT, f"id:{reader_id}")
    return _hash(_READER_SALT, f"ip:{ip or ''}\n{user_agent}")


def reporter_source(*, ip: str | None) -> str:
    """Return the hash of the network a report came from (a whole /64 for IPv6).

    Reports hide a comment only from this many different sources, so one person who
    changes user agent or reader id still counts once.
    """
    return _hash(_SOURCE_SALT, _network(ip))
