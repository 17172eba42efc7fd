"""The client's address as every abuse check sees it, and the throttles keyed by it."""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy.strip(), strict=False) for proxy in proxies)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    networks = _networks(tuple(settings.REEX_TRUSTED_PROXIES))
    return any(address in network for network in networks)


def client_ip(request: HttpRequest | Request) -> str | None:
    """Return the client's IP address.

    ``X-Forwarded-For`` counts only when the peer is a trusted proxy; then the address is
    the right-most one that is not itself a trusted proxy (the left part is client-made).
    """
    peer = _parse(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return None
    if not _is_trusted(peer):
        return str(peer)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed(forwarded.split(",")):
        address = _parse(hop)
        if address is None:
            break
        if not _is_trusted(address):
            return str(address)
        peer = address
    return str(peer)


class ClientIpRateThrottle(SimpleRateThrottle):
    """A DRF throttle keyed by ``client_ip``; subclasses name their scope."""

    def get_rate(self) -> str | None:
        # Read at each request so that changed settings (tests, reloads) take effect.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return None if rate is None else str(rate)

    def get_ident(self, request: Request) -> str:
        return client_ip(request) or "unknown"

    def get_cache_key(self, request: Request, view: object) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class CommentRateThrottle(ClientIpRateThrottle):
    scope = "comment"


class SubscribeThrottle(ClientIpRateThrottle):
    scope = "subscribe"


class FlagThrottle(ClientIpRateThrottle):
    scope = "flag"
