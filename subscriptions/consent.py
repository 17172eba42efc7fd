"""The consent text shown next to the sign-up checkbox, versioned, and who gave consent.

Change the text only together with a new version: the consent log stores both with every
request, so the site can show exactly what each subscriber agreed to.
"""

from dataclasses import dataclass


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


CURRENT = Consent(
    version="2025-01",
    text=(
        "Yes, send me the newsletter I picked by email. I can unsubscribe at any time "
        "with the link in every email, and my address is used for nothing else."
    ),
)
