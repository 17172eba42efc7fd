"""The consent text shown next to the sign-up checkbox, versioned, and who gave consent.

Change the text only together with a new version: the consent log stores both with every
request, so the site can show exactly what each subscriber agreed to.
"""

from dataclasses import dataclass

from django.http import HttpRequest
from rest_framework.request import Request

from reex.net import client_ip


@dataclass(frozen=True)
class Consent:
    version: str
    text: str


@dataclass(frozen=True)
class Requester:
    """Who asked: kept in the consent log with every event."""

    source: str
    ip: str | None = None
    user_agent: str = ""


def requester_of(
    request: HttpRequest | Request, *, source: str, user_agent: str | None = None
) -> Requester:
    """Return who asked: the client's address and user agent (unless another is given)."""
    if user_agent is None:
        user_agent = request.META.get("HTTP_USER_AGENT", "")
    return Requester(source=source, ip=client_ip(request), user_agent=user_agent)


CURRENT = Consent(
    version="2025-01",
    text=(
        "Yes, send me the newsletter I picked by email. I can unsubscribe at any time "
        "with the link in every email, and my address is used for nothing else."
    ),
)
