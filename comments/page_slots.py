"""Filling a cached page's slots with what each reader gets their own of.

The reader page is cached with stand-ins for the CSRF token and the form's signed time;
each request puts its own in, in one copy of the body. The stand-ins are derived from
SECRET_KEY, so that no comment can quote one and show readers their token.
"""

import secrets
import time

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.crypto import salted_hmac

from comments.tokens import form_timestamp_make

_CHARS = CSRF_ALLOWED_CHARS.encode("ascii")
_INDEX = {char: n for n, char in enumerate(_CHARS)}
# Bytes below the largest multiple of the alphabet's size map onto it without bias.
_UNBIASED = 256 - 256 % len(_CHARS)


def _random_chars(length: int) -> bytes:
    """Return ``length`` characters drawn uniformly from the CSRF alphabet (the OS's RNG).

    Django draws them one ``secrets.choice`` at a time, which is most of a cached page's
    cost; this draws every byte at once and drops the few that would bias the draw.
    """
    chars = b""
    while len(chars) < length:
        drawn = secrets.token_bytes(length + 8)
        chars += bytes(_CHARS[b % len(_CHARS)] for b in drawn if b < _UNBIASED)
    return chars[:length]


def csrf_token(request: HttpRequest) -> bytes:
    """Return a masked CSRF token for the request, as ``django.middleware.csrf.get_token``
    does (the cookie's secret, or a new one the middleware then sets as the cookie)."""
    secret = request.META.get("CSRF_COOKIE")
    if not isinstance(secret, str) or len(secret) != CSRF_SECRET_LENGTH:
        secret = _random_chars(CSRF_SECRET_LENGTH).decode("ascii")
        request.META["CSRF_COOKIE"] = secret
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = _random_chars(CSRF_SECRET_LENGTH)
    size = len(_CHARS)
    cipher = bytes(
        _CHARS[(_INDEX[s] + _INDEX[m]) % size] for s, m in zip(secret.encode(), mask, strict=True)
    )
    return mask + cipher


_slots: tuple[str, tuple[str, str]] = ("", ("", ""))


def slots() -> tuple[str, str]:
    """Return the stand-ins for the CSRF token and the form time (the same in every
    process that shares the SECRET_KEY)."""
    global _slots
    if _slots[0] != settings.SECRET_KEY:
        mark = salted_hmac("comments.page-slots", "slots").hexdigest()[:20]
        _slots = (settings.SECRET_KEY, (f"reex-slot-csrf-{mark}", f"reex-slot-time-{mark}"))
    return _slots[1]


_form_time: tuple[tuple[int, str], bytes] = ((-1, ""), b"")


def form_time() -> bytes:
    """Return the signed form time, signed once a second (every request of that second
    would sign the same value)."""
    global _form_time
    made_for = (int(time.time()), settings.SECRET_KEY)
    if _form_time[0] != made_for:
        _form_time = (made_for, form_timestamp_make(now=made_for[0]).encode("ascii"))
    return _form_time[1]


def filled(request: HttpRequest, body: bytes) -> bytes:
    """Return the cached page with the request's CSRF token and form time in its slots."""
    csrf_slot, time_slot = (slot.encode("ascii") for slot in slots())
    csrf_at = body.rfind(csrf_slot)
    time_at = body.find(time_slot, csrf_at)
    if csrf_at < 0 or time_at < 0:  # no form (comments closed): nothing to fill
        return body
    page = memoryview(body)
    return b"".join(
        (
            page[:csrf_at],
            csrf_token(request),
            page[csrf_at + len(csrf_slot) : time_at],
            form_time(),
            page[time_at + len(time_slot) :],
        )
    )
