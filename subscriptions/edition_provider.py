"""Sending an edition through an email provider's batch API (django-anymail).

One API call carries up to PROVIDER_BATCH recipients: the body once, with the provider's
merge fields where the address and the unsubscribe link go (``merge_data``), and each
recipient's List-Unsubscribe and Message-ID as ``merge_headers``. A provider whose plain
(non-template) messages have no merge fields (Postmark, Amazon SES) gets one message
per recipient through the same kept connection instead. For the batch call, "the message
in flight" of the exactly-once guarantee is the whole call.
"""

import logging
from collections.abc import Callable
from typing import Any

from anymail.exceptions import AnymailError
from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import get_connection

from reex.ratelimit import send_slot_wait
from subscriptions import edition_email, emails
from subscriptions.edition_delivery import (
    BatchStopped,
    Check,
    Claim,
    Row,
    State,
    check_row,
    server_failed,
)
from subscriptions.models import Edition, Subscriber

logger = logging.getLogger(__name__)

# The smallest of the providers' batch limits (Postmark's 500 messages per call).
PROVIDER_BATCH = 500
# Provider (anymail's esp_name) -> how a merge field named ``key`` is written in the body.
MERGE_FIELDS: dict[str, Callable[[str], str]] = {
    "Mailgun": lambda key: f"%recipient.{key}%",
    "Mailjet": lambda key: f"[[var:{key}]]",
    "Mandrill": lambda key: f"*|{key}|*",
    "SendGrid": lambda key: f":{key}",
    "SparkPost": lambda key: f"{{{{{key}}}}}",
    "Test": lambda key: f"{{{{{key}}}}}",
}
# Statuses anymail reports for a recipient the provider accepted.
ACCEPTED = {"sent", "queued", "scheduled"}


def batch_available() -> bool:
    """Return whether the configured backend is a provider that fills per-recipient fields
    in a plain (non-template) message; the others get a message per recipient."""
    if not settings.EMAIL_BACKEND.startswith("anymail."):
        return False
    return getattr(get_connection(), "esp_name", "") in MERGE_FIELDS


def claim_send_batched(claim: Claim) -> None:
    """Send the claim's rows in provider batch calls; release what was not sent."""
    connection = get_connection(fail_silently=False)
    try:
        while claim.position < len(claim.rows):
            chunk = claim.rows[claim.position : claim.position + PROVIDER_BATCH]
            claim.renew_if_due()
            _chunk_send(claim, chunk, connection)
            claim.position += len(chunk)
    except BatchStopped:
        pass
    finally:
        claim.release_unsent()


def _chunk_send(claim: Claim, chunk: list[Row], connection: Any) -> None:
    live: list[tuple[int, int, int, Check]] = []
    for row_id, subscriber_id, attempts, _ in chunk:
        check = check_row(claim, row_id)
        if check is not None:
            live.append((row_id, subscriber_id, attempts, check))
    if not live:
        return
    for _ in live:
        send_slot_wait()
    message = batch_message(
        edition=claim.edition,
        recipients=[(subscriber_id, check.email) for _, subscriber_id, _, check in live],
        connection=connection,
    )
    try:
        message.send()
    except AnymailError as error:
        server_failed(claim, live[0][0], live[0][2], error, connection, rest=live[1:])
        return
    _record(claim, live, message)


def _record(claim: Claim, live: list[tuple[int, int, int, Check]], message: Any) -> None:
    statuses = message.anymail_status.recipients
    for row_id, _, _, check in live:
        status = statuses.get(check.email)
        if status is None or status.status in ACCEPTED:
            claim.sent += claim.mark(row_id, State.SENT)
        else:
            claim.failed += claim.mark(row_id, State.FAILED, f"provider: {status.status}")
    if any(check.errors for *_, check in live):
        Edition.objects.filter(pk=claim.edition.pk).update(consecutive_errors=0)


def batch_message(
    *, edition: Edition, recipients: list[tuple[int, str]], connection: Any
) -> AnymailMessage:
    """Return one message to every recipient: merge fields in the body, headers per address."""
    field = MERGE_FIELDS[connection.esp_name]
    fill = {
        edition_email.EMAIL: field("reex_email"),
        edition_email.UNSUBSCRIBE: field("reex_unsubscribe"),
    }
    text, html = edition.text, edition.html
    for placeholder, merge_field in fill.items():
        text, html = text.replace(placeholder, merge_field), html.replace(placeholder, merge_field)
    message = AnymailMessage(
        subject=edition.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email for _, email in recipients],
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    message.merge_data, message.merge_headers = {}, {}
    for subscriber_id, email in recipients:
        unsubscribe = _unsubscribe_url(edition, subscriber_id)
        message.merge_data[email] = {"reex_email": email, "reex_unsubscribe": unsubscribe}
        message.merge_headers[email] = edition_email.edition_headers_for(
            edition=edition,
            unsubscribe=unsubscribe,
            message_id=edition_email.edition_message_id(
                edition=edition, subscriber_id=subscriber_id
            ),
        )
    return message


def _unsubscribe_url(edition: Edition, subscriber_id: int) -> str:
    return emails.unsubscribe_url(
        subscriber=Subscriber(pk=subscriber_id), mailing_list=edition.mailing_list
    )
