"""An edition's message generated once as bytes; each recipient's copy is a few splices.

Python's email generator costs milliseconds a message (header folding, a boundary regex
compiled every time), which alone would hold a worker to a couple of hundred messages a
second. So the message is generated once, with stand-ins for the address, the
unsubscribe link and the Message-ID, and checked: a copy made by replacing them must read
exactly like the message ``edition_email.edition_message_for`` builds. Where that check
fails (a stand-in cut by quoted-printable line breaks) or a recipient's values would need
encoding (a non-ASCII or quoted address, characters HTML escapes), the regular message is
sent. The message is also kept split at the stand-ins, dot-stuffed for SMTP's DATA once,
so that a recipient's copy is one join and goes out without smtplib's regex passes.
"""

import contextlib
import re
import smtplib
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import sanitize_address

from subscriptions import edition_email, emails, tokens
from subscriptions.models import Edition, Subscriber

TO = "reex-recipient@recipient.invalid"
MESSAGE_ID = "<reex-message-id@recipient.invalid>"
# Characters that HTML escaping would change: such values are not replaced in bytes.
_HTML_SPECIAL = set("&<>\"'")
_PROBE = Subscriber(pk=0, email="probe@example.org")
# Each stand-in and the recipient value it stands for (0 address, 1 link, 2 Message-ID).
_STAND_INS = {
    TO.encode(): 0,
    edition_email.EMAIL.encode(): 0,
    edition_email.UNSUBSCRIBE.encode(): 1,
    MESSAGE_ID.encode(): 2,
}
_SPLIT = re.compile(b"(" + b"|".join(re.escape(s) for s in _STAND_INS) + b")")
# An address that sanitize_address leaves as it is and SMTP takes as <address>: a plain
# dot-atom local part (no quotes, no HTML specials) at an ASCII host name.
_ATOM = r"[A-Za-z0-9!#$%*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z")
_CRLF = b"\r\n"


@dataclass(frozen=True)
class Prebuilt:
    """The edition's message with stand-ins, and the envelope sender."""

    raw: bytes
    from_email: str
    # ``raw`` split at the stand-ins (an int names the value), as is and dot-stuffed.
    pieces: tuple[bytes | int, ...] = field(init=False, repr=False)
    wire_pieces: tuple[bytes | int, ...] = field(init=False, repr=False)
    # The envelope sender as SMTP's MAIL command writes it.
    sender: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Stand-ins and values never start with ".", so stuffing before splitting holds.
        stuffed = re.sub(rb"(?m)^\.", b"..", self.raw)
        ending = b"." + _CRLF if stuffed.endswith(_CRLF) else _CRLF + b"." + _CRLF
        object.__setattr__(self, "pieces", _pieces(self.raw))
        object.__setattr__(self, "wire_pieces", _pieces(stuffed + ending))
        object.__setattr__(self, "sender", smtplib.quoteaddr(self.from_email))

    def bytes_for(self, *, email: str, unsubscribe: str, message_id: str) -> bytes | None:
        """Return the recipient's message, or None when it needs the regular path."""
        values = (email, unsubscribe, message_id)
        if not all(v.isascii() and not _HTML_SPECIAL & set(v) for v in values[:2]):
            return None
        return _join(self.pieces, values)

    def wire_for(self, *, email: str, unsubscribe: str, message_id: str) -> "Wire | None":
        """Return the recipient's message as SMTP's DATA sends it, or None when it needs
        the regular path (an address SMTP or HTML would quote, a value on several lines)."""
        if not _PLAIN_ADDRESS.match(email) or not _plain(unsubscribe) or not _plain(message_id):
            return None
        if "." in (unsubscribe[:1], message_id[:1]) or _HTML_SPECIAL & set(unsubscribe):
            return None
        values = (email, unsubscribe, message_id)
        size = sum(len(p) if isinstance(p, bytes) else len(values[p]) for p in self.pieces)
        return Wire(recipient=email, data=_join(self.wire_pieces, values), size=size)


@dataclass(frozen=True)
class Wire:
    """One recipient's message ready for SMTP: dot-stuffed and ended, and its plain size."""

    recipient: str
    data: bytes
    size: int


def _plain(value: str) -> bool:
    return value.isascii() and value.isprintable()


def _pieces(raw: bytes) -> tuple[bytes | int, ...]:
    return tuple(_STAND_INS[p] if n % 2 else p for n, p in enumerate(_SPLIT.split(raw)))


def _join(pieces: tuple[bytes | int, ...], values: tuple[str, str, str]) -> bytes:
    encoded = [v.encode() for v in values]
    return b"".join(encoded[p] if isinstance(p, int) else p for p in pieces)


def smtp_send(smtp: smtplib.SMTP, *, sender: str, wire: Wire) -> None:
    """Send one prepared message as ``smtp.sendmail`` would, raising what it raises."""
    smtp_envelope(smtp, sender=sender, wire=wire)
    smtp_data(smtp, wire=wire)


def smtp_envelope(smtp: smtplib.SMTP, *, sender: str, wire: Wire) -> None:
    """Open the message's SMTP transaction (MAIL FROM, RCPT TO); nothing is delivered
    until ``smtp_data``, and the server drops a transaction left without its DATA."""
    smtp.ehlo_or_helo_if_needed()
    size = f" SIZE={wire.size}" if smtp.does_esmtp and smtp.has_extn("size") else ""
    smtp.putcmd("mail", f"FROM:{sender}{size}")
    code, answer = smtp.getreply()
    if code != 250:
        _reset(smtp, code)
        raise smtplib.SMTPSenderRefused(code, answer, sender)
    smtp.putcmd("rcpt", f"TO:<{wire.recipient}>")
    code, answer = smtp.getreply()
    if code not in (250, 251):
        _reset(smtp, code)
        raise smtplib.SMTPRecipientsRefused({wire.recipient: (code, answer)})


def smtp_data(smtp: smtplib.SMTP, *, wire: Wire) -> None:
    """Send the message of the open transaction: from here on it is delivered."""
    smtp.putcmd("data")
    code, answer = smtp.getreply()
    if code == 354:
        smtp.send(wire.data)
        code, answer = smtp.getreply()
    if code != 250:
        _reset(smtp, code)
        raise smtplib.SMTPDataError(code, answer)


def smtp_abandon(smtp: smtplib.SMTP) -> None:
    """Drop the open transaction (RSET); a broken connection fails the next send instead."""
    with contextlib.suppress(smtplib.SMTPException, OSError):
        smtp.rset()


def _reset(smtp: smtplib.SMTP, code: int) -> None:
    """As smtplib does after a refusal: close on 421 (the server leaves), else RSET."""
    if code == 421:
        smtp.close()
        return
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        smtp.rset()


# The last edition's message, per process: the batches of one edition share it.
_cached: dict[tuple[object, ...], Prebuilt | None] = {}


def prebuilt_for(*, edition: Edition) -> Prebuilt | None:
    """Return the edition's message generated once (kept for its next batches); None when
    byte replaces would not be exact."""
    key = _cache_key(edition)
    if key not in _cached:
        _cached.clear()
        _cached[key] = _prebuilt(edition)
    return _cached[key]


def _cache_key(edition: Edition) -> tuple[object, ...]:
    """What the message depends on: the edition, its list's names and the site's settings."""
    mailing_list = edition.mailing_list
    return (
        edition.pk, edition.subject, edition.html, edition.text,
        mailing_list.pk, mailing_list.name, mailing_list.slug,
        settings.DEFAULT_FROM_EMAIL, settings.REEX_BASE_URL, settings.SECRET_KEY,
        settings.REEX_NEWSLETTER_UNSUBSCRIBE_MAILTO, settings.DEFAULT_CHARSET,
    )  # fmt: skip


def _prebuilt(edition: Edition) -> Prebuilt | None:
    message = EmailMultiAlternatives(
        subject=edition.subject,
        body=edition.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[TO],
        headers=edition_email.edition_headers_for(
            edition=edition, unsubscribe=edition_email.UNSUBSCRIBE, message_id=MESSAGE_ID
        ),
    )
    message.attach_alternative(edition.html, "text/html")
    encoding = message.encoding or settings.DEFAULT_CHARSET
    prebuilt = Prebuilt(
        raw=message.message().as_bytes(linesep="\r\n"),
        from_email=sanitize_address(message.from_email, encoding),
    )
    return prebuilt if _same_as_regular(prebuilt, edition) else None


class RecipientValues:
    """One edition's per-recipient values: the unsubscribe link's fixed parts are resolved
    once, its token signed per recipient; the same strings ``recipient_values`` returns."""

    def __init__(self, edition: Edition) -> None:
        self.edition = edition
        probe = tokens.unsubscribe_token_make(
            subscriber_id=_PROBE.pk, list_id=edition.mailing_list_id
        )
        link = emails.unsubscribe_url(subscriber=_PROBE, mailing_list=edition.mailing_list)
        before, _, after = link.partition(probe)
        self.around = (before, after) if link.count(probe) == 1 else None
        self._token = tokens.unsubscribe_token_maker()
        self._message_id = edition_email.edition_message_id_maker(edition=edition)

    def values(self, *, subscriber_id: int, email: str) -> dict[str, str]:
        edition = self.edition
        if self.around is None:
            subscriber = Subscriber(pk=subscriber_id, email=email)
            return recipient_values(edition=edition, subscriber=subscriber)
        token = self._token(subscriber_id, edition.mailing_list_id)
        return {
            "email": email,
            "unsubscribe": f"{self.around[0]}{token}{self.around[1]}",
            "message_id": self._message_id(subscriber_id),
        }


def recipient_values(*, edition: Edition, subscriber: Subscriber) -> dict[str, str]:
    return {
        "email": subscriber.email,
        "unsubscribe": emails.unsubscribe_url(
            subscriber=subscriber, mailing_list=edition.mailing_list
        ),
        "message_id": edition_email.edition_message_id(
            edition=edition, subscriber_id=subscriber.pk
        ),
    }


def _same_as_regular(prebuilt: Prebuilt, edition: Edition) -> bool:
    """Return whether a probe recipient's copy reads like the regular message for them."""
    fast = prebuilt.bytes_for(**recipient_values(edition=edition, subscriber=_PROBE))
    regular = edition_email.edition_message_for(edition=edition, subscriber=_PROBE)
    if fast is None:
        return False
    return _reading(fast) == _reading(regular.message().as_bytes(linesep="\r\n"))


def _reading(raw: bytes) -> tuple[object, ...]:
    """Return what a mail client shows of a message: headers but Date, decoded parts."""
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    # Date and the MIME boundary differ between any two generations; where a long header
    # is folded is no difference to a reader.
    headers = sorted(
        (k, " ".join(str(v).split()))
        for k, v in parsed.items()
        if k.lower() not in ("date", "content-type")
    )
    parts = [
        (part.get_content_type(), part.get_content())
        for part in parsed.walk()
        if not part.is_multipart()
    ]
    return parsed.get_content_type(), tuple(headers), tuple(parts)
