from typing import Any

import pytest
from django.test import RequestFactory

from reex.net import client_ip


def request(remote: str, forwarded: str | None = None):
    extra: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_it_uses_the_peer_address_by_default(settings):
    settings.REEX_TRUSTED_PROXIES = []
    assert client_ip(request("198.51.100.1", "1.2.3.4")) == "198.51.100.1"


def test_it_trusts_forwarded_for_from_a_trusted_proxy(settings):
    settings.REEX_TRUSTED_PROXIES = ["10.0.0.1"]
    assert client_ip(request("10.0.0.1", "203.0.113.5")) == "203.0.113.5"


def test_it_takes_the_rightmost_untrusted_hop(settings):
    settings.REEX_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request("10.0.0.1", "6.6.6.6, 203.0.113.5, 10.0.0.2")) == "203.0.113.5"


def test_it_ignores_garbage_in_forwarded_for(settings):
    settings.REEX_TRUSTED_PROXIES = ["10.0.0.1"]
    assert client_ip(request("10.0.0.1", "not-an-ip")) == "10.0.0.1"


@pytest.mark.parametrize("remote", ["", "garbage"])
def test_it_returns_none_without_a_valid_peer(settings, remote):
    settings.REEX_TRUSTED_PROXIES = []
    assert client_ip(request(remote)) is None


def test_it_handles_ipv6(settings):
    settings.REEX_TRUSTED_PROXIES = ["::1"]
    assert client_ip(request("::1", "2001:db8::7")) == "2001:db8::7"
