"""What the reader's form and the API both hand to the submission service."""

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from reex.net import client_ip

AWAITING_MODERATION = "Your comment is awaiting moderation."
# The submitted fields comment_create takes as they are (after the form's or API's checks).
SUBMITTED_FIELDS = ("author_name", "author_email", "author_url", "body", "notify_replies")


def submission_fields(data: Mapping[str, Any], request: HttpRequest) -> dict[str, Any]:
    """Return comment_create's arguments for validated data posted in ``request``."""
    return {
        **{name: data[name] for name in SUBMITTED_FIELDS},
        "parent_id": data["parent"],
        "ip": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", ""),
        "referrer": request.META.get("HTTP_REFERER", ""),
    }
