"""Signed tokens in email links: confirmation (expires, rotates) and unsubscribe (never)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

_CONFIRM_SALT = "subscriptions.confirm"
_UNSUBSCRIBE_SALT = "subscriptions.unsubscribe"


class TokenInvalid(Exception):
    """The token was tampered with or is not one of ours."""


class TokenExpired(Exception):
    """The token is genuine but too old, or a newer confirmation replaced it."""

    def __init__(self, *, subscriber_id: int) -> None:
        super().__init__(f"expired token for subscriber {subscriber_id}")
        self.subscriber_id = subscriber_id


@dataclass(frozen=True)
class ConfirmationToken:
    subscriber_id: int
    nonce: str


@dataclass(frozen=True)
class UnsubscribeToken:
    subscriber_id: int
    list_id: int


def confirmation_token_make(*, subscriber_id: int, nonce: str) -> str:
    signer = signing.TimestampSigner(salt=_CONFIRM_SALT)
    return signer.sign_object({"s": subscriber_id, "n": nonce}, compress=False)


def confirmation_token_read(token: str, *, check_age: bool = True) -> ConfirmationToken:
    """Return the token's content, or raise TokenInvalid or TokenExpired."""
    signer = signing.TimestampSigner(salt=_CONFIRM_SALT)
    if not check_age:
        return _confirmation(_unsign(signer, token))
    max_age = timedelta(hours=settings.REEX_CONFIRMATION_MAX_AGE_HOURS)
    try:
        data = signer.unsign_object(token, max_age=max_age)
    except signing.SignatureExpired:
        data = _unsign(signer, token)
        raise TokenExpired(subscriber_id=_confirmation(data).subscriber_id) from None
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise TokenInvalid() from error
    return _confirmation(data)


def unsubscribe_token_make(*, subscriber_id: int, list_id: int) -> str:
    signer = signing.Signer(salt=_UNSUBSCRIBE_SALT)
    return signer.sign_object({"s": subscriber_id, "l": list_id}, compress=False)


def unsubscribe_token_maker() -> Callable[[int, int], str]:
    """Return ``unsubscribe_token_make`` for many tokens in a row (an edition's batch):
    the same tokens (subscriber id, list id), the signing key derived once, not per token."""
    signer = signing.Signer(salt=_UNSUBSCRIBE_SALT)
    keyed = salted_hmac(_UNSUBSCRIBE_SALT + "signer", b"", signer.key, algorithm=signer.algorithm)
    dumps = signing.JSONSerializer().dumps

    def make(subscriber_id: int, list_id: int) -> str:
        value = signing.b64_encode(dumps({"s": subscriber_id, "l": list_id})).decode()
        mac = keyed.copy()
        mac.update(value.encode())
        return f"{value}{signer.sep}{signing.b64_encode(mac.digest()).decode()}"

    return make


def unsubscribe_token_read(token: str) -> UnsubscribeToken:
    """Return the token's content, or raise TokenInvalid."""
    data = _unsign(signing.Signer(salt=_UNSUBSCRIBE_SALT), token)
    if not isinstance(data, dict):
        raise TokenInvalid()
    return UnsubscribeToken(subscriber_id=_int(data.get("s")), list_id=_int(data.get("l")))


def _unsign(signer: signing.Signer, token: str) -> object:
    try:
        return signer.unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise TokenInvalid() from error


def _confirmation(data: object) -> ConfirmationToken:
    if not isinstance(data, dict) or not isinstance(data.get("n"), str):
        raise TokenInvalid()
    return ConfirmationToken(subscriber_id=_int(data.get("s")), nonce=data["n"])


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TokenInvalid()
    return value
