"""The client's address and the sign-up throttle keyed on it.

``comments/net.py`` is to hold the project's shared ``client_ip``; this private copy
follows the same rule (REEX_TRUSTED_PROXIES) until the two are merged.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _client_ip(request: HttpRequest) -> str | None:
    """Return the client's IP: X-Forwarded-For is believed only from a trusted proxy."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    if remote is None or remote not in settings.REEX_TRUSTED_PROXIES:
        return remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    # The rightmost address that is not one of our proxies is the one a proxy saw.
    for hop in reversed(hops):
        address = _valid_ip(hop)
        if address and address not in settings.REEX_TRUSTED_PROXIES:
            return address
    return remote


class SubscribeThrottle(SimpleRateThrottle):
    """REEX_SUBSCRIBE_RATE sign-ups per client IP, shared by the form and the API."""

    scope = "subscribe"

    def get_rate(self) -> str | None:
        # Read at call time, so that a changed setting (tests, reload) takes effect.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return str(rate) if rate else None

    def get_cache_key(self, request: HttpRequest, view: object) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": _client_ip(request) or "unknown"}
