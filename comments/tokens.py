"""Signed values: stop-notification links, the form's timestamp, the author's cookie,
the moderation links of held-comment emails, the author's edit token."""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from django.core import signing

from reex.addresses import email_normalise

_STOP_SALT = "comments.stop-notifications"
_FORM_SALT = "comments.form-timestamp"
AUTHOR_COOKIE_SALT = "comments.author"
EDIT_COOKIE_SALT = "comments.edit-tokens"
_EDIT_SALT = "comments.edit"


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


# --- moderation links in the held-comment email ------------------------------------------
_MODERATION_SALT = "comments.moderation-link"
MODERATION_LINK_ACTIONS = ("approve", "spam", "trash")


@dataclass(frozen=True)
class ModerationLink:
    comment_id: int
    user_id: int
    action: str
    # Names this one link, so that its use can be recorded once.
    nonce: str


class ModerationLinkExpired(Exception):
    pass


def moderation_token_make(*, comment_id: int, user_id: int, action: str) -> str:
    """Return a signed, timed token letting this moderator take this action once."""
    if action not in MODERATION_LINK_ACTIONS:
        raise ValueError(f"Not a link action: {action}")
    payload = {"c": comment_id, "u": user_id, "a": action, "n": secrets.token_hex(12)}
    return signing.dumps(payload, salt=_MODERATION_SALT, compress=True)


def moderation_token_read(token: str, *, max_age_hours: int) -> ModerationLink | None:
    """Return what a moderation token names; None if forged, ModerationLinkExpired if old."""
    try:
        data = signing.loads(token, salt=_MODERATION_SALT, max_age=max_age_hours * 3600)
        link = ModerationLink(
            comment_id=int(data["c"]),
            user_id=int(data["u"]),
            action=str(data["a"]),
            nonce=str(data["n"]),
        )
    except signing.SignatureExpired as error:
        raise ModerationLinkExpired from error
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return link if link.action in MODERATION_LINK_ACTIONS else None


def edit_secret_new() -> tuple[str, str]:
    """Return a new edit secret and the hash the comment keeps of it."""
    secret = secrets.token_urlsafe(24)
    return secret, edit_secret_hash(secret)


def edit_secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def edit_token_make(*, comment_id: int, secret: str) -> str:
    """Return the author's edit token: the secret, signed and bound to the comment's id."""
    return signing.dumps({"c": comment_id, "k": secret}, salt=_EDIT_SALT)


def edit_token_matches(token: str, *, comment_id: int, key_hash: str) -> bool:
    """Return whether ``token`` was made for this comment with the secret hashed here."""
    try:
        data = signing.loads(token, salt=_EDIT_SALT)
        bound, secret = int(data["c"]), str(data["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return False
    if bound != comment_id or not key_hash:
        return False
    return hmac.compare_digest(edit_secret_hash(secret), key_hash)
