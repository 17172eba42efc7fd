"""The sign-up throttle: REEX_SUBSCRIBE_RATE per client IP, shared by the form and the API.

The client's address comes from ``comments.net.client_ip``, the project's one rule for it
(X-Forwarded-For believed only from REEX_TRUSTED_PROXIES).
"""

from comments.net import ClientIpRateThrottle, client_ip

__all__ = ["SubscribeThrottle", "client_ip"]


class SubscribeThrottle(ClientIpRateThrottle):
    scope = "subscribe"
