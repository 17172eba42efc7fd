"""Signed values: stop-notification links, the form's timestamp, the author's cookie."""

import time
from dataclasses import dataclass

from django.core import signing

from reex.addresses import email_normalise

_STOP_SALT = "comments.stop-notifications"
_FORM_SALT = "comments.form-timestamp"
AUTHOR_COOKIE_SALT = "comments.author"


@dataclass(frozen=True)
class StopNotifications:
    comment_id: int
    email: str


def stop_token_make(*, comment_id: int, email: str) -> str:
    """Return a token that stops reply notifications for this comment's thread (never expires)."""
    return signing.dumps(
        {"c": comment_id, "e": email_normalise(email)}, salt=_STOP_SALT, compress=True
    )


def stop_token_read(token: str) -> StopNotifications | None:
    """Return what a stop token names, or None when it was not made by us."""
    try:
        data = signing.loads(token, salt=_STOP_SALT)
        return StopNotifications(comment_id=int(data["c"]), email=str(data["e"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def form_timestamp_make(*, now: float | None = None) -> str:
    """Return the signed time at which a comment form was rendered."""
    return signing.dumps(int(time.time() if now is None else now), salt=_FORM_SALT)


def form_timestamp_age(value: str, *, now: float | None = None) -> float | None:
    """Return how many seconds ago a signed form timestamp was made, or None if forged."""
    try:
        made = int(signing.loads(value, salt=_FORM_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return (time.time() if now is None else now) - made
