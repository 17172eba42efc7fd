"""An edition's message generated once as bytes; each recipient's copy is a few replaces.

Python's email generator costs milliseconds a message (header folding, a boundary regex
compiled every time), which alone would hold a worker to a couple of hundred messages a
second. So a batch generates the message once, with stand-ins for the address, the
unsubscribe link and the Message-ID, and checks that a copy made by replacing them reads
exactly like the message ``edition_email.edition_message_for`` builds. Where that check
fails (a stand-in cut by quoted-printable line breaks) or a recipient's values would need
encoding (a non-ASCII address, characters HTML escapes), the regular message is sent.
"""

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import sanitize_address

from subscriptions import edition_email, emails
from subscriptions.models import Edition, Subscriber

TO = "reex-recipient@recipient.invalid"
MESSAGE_ID = "<reex-message-id@recipient.invalid>"
# Characters that HTML escaping would change: such values are not replaced in bytes.
_HTML_SPECIAL = set("&<>\"'")
_PROBE = Subscriber(pk=0, email="probe@example.org")


@dataclass(frozen=True)
class Prebuilt:
    """The edition's message with stand-ins, and the envelope sender."""

    raw: bytes
    from_email: str

    def bytes_for(self, *, email: str, unsubscribe: str, message_id: str) -> bytes | None:
        """Return the recipient's message, or None when it needs the regular path."""
        values = (email, unsubscribe, message_id)
        if not all(v.isascii() and not _HTML_SPECIAL & set(v) for v in values[:2]):
            return None
        return (
            self.raw.replace(TO.encode(), email.encode())
            .replace(edition_email.EMAIL.encode(), email.encode())
            .replace(edition_email.UNSUBSCRIBE.encode(), unsubscribe.encode())
            .replace(MESSAGE_ID.encode(), message_id.encode())
        )


def prebuilt_for(*, edition: Edition) -> Prebuilt | None:
    """Generate the edition's message once; None when byte replaces would not be exact."""
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
