"""Sending one claimed batch of an edition: re-check, send, mark, one row at a time.

The claim checked its rows already (``sql.edition_deliveries_claim``). Before each
message the row, the edition and the subscriber are read again, in the statement that
marks the previous row sent: a paused or cancelled edition stops the batch, an address
that unsubscribed, bounced or complained since the claim is skipped, a row whose lease
another worker took over is left alone. So each row is marked right after its message,
before the next one is delivered. On PostgreSQL that statement runs on a helper thread
during the message's MAIL FROM and RCPT TO (``edition_overlap``); DATA waits for it.
"""

import logging
import smtplib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from anymail.exceptions import AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.utils import timezone

from reex import smtp
from reex.ratelimit import send_slot_wait
from subscriptions import edition_bytes, edition_email, edition_overlap, edition_pausing, sql
from subscriptions.edition_bytes import Prebuilt
from subscriptions.models import Edition, EditionDelivery, Subscriber, Subscription

logger = logging.getLogger(__name__)

State = EditionDelivery.State
# A recipient whose message failed this many times (server errors) is given up on.
MAX_ATTEMPTS = 5
# Pause between SMTP failures in a row (doubling, capped), so that a short outage heals
# before REEX_SEND_MAX_ERRORS is reached and the edition pauses.
ERROR_BACKOFF_SECONDS = 0.5
ERROR_BACKOFF_MAX_SECONDS = 30.0


# A claimed row: delivery id, subscriber id, attempts so far, the address at the claim.
Row = tuple[int, int, int, str]


class BatchStopped(Exception):
    """The edition is no longer sending (paused, cancelled): the rest of the batch waits."""


@dataclass
class Claim:
    """The rows one task holds and their shared lease (whose value is the claim's token)."""

    edition: Edition
    rows: list[Row]
    until: datetime
    renewed_at: float = field(default_factory=time.monotonic)
    position: int = 0
    # The edition's message generated once (None: each is built the regular way).
    prebuilt: Prebuilt | None = None
    values: edition_bytes.RecipientValues | None = None
    # The check (with the previous row's mark) on a helper thread during the envelope.
    lookahead: edition_overlap.Lookahead | None = None
    # The row just sent, marked with the next row's check (one statement) or at the end.
    unmarked: tuple[int, datetime] | None = None
    sent: int = 0
    failed: int = 0
    released: int = 0

    @property
    def unsent_ids(self) -> list[int]:
        return [row[0] for row in self.rows[self.position :]]

    def held(self, *ids: int) -> Any:
        """Return the rows among ``ids`` that this claim still holds."""
        return EditionDelivery.objects.filter(
            pk__in=ids, state=State.SENDING, claimed_until=self.until
        )

    def renew_if_due(self) -> None:
        """Move the lease on, every third of it, for the rows still to send."""
        lease = settings.REEX_SEND_LEASE_SECONDS
        if time.monotonic() - self.renewed_at < lease / 3:
            return
        self.flush()  # the mark matches the lease value it was claimed with
        until = timezone.now() + timedelta(seconds=lease)
        self.held(*self.unsent_ids).update(claimed_until=until)
        self.until, self.renewed_at = until, time.monotonic()

    def mark(self, row_id: int, state: str, error: str = "") -> bool:
        """Record the row's outcome; False when the claim no longer held it."""
        sent_at = timezone.now() if state == State.SENT else None
        marked = sql.edition_rows_mark(
            row_id=row_id, until=self.until, state=state, sent_at=sent_at, error=error[:500]
        )
        return bool(marked)

    def flush(self) -> None:
        """Mark the row just sent, if any, now."""
        if self.unmarked is not None:
            row_id, sent_at = self.unmarked
            self.unmarked = None
            self.sent += sql.edition_rows_mark(
                row_id=row_id, until=self.until, state=State.SENT, sent_at=sent_at, error=""
            )

    def release_unsent(self) -> None:
        """Give the rows not yet sent back to the queue (or skip them if cancelled)."""
        ids = self.unsent_ids
        if not ids:
            return
        cancelled = _edition_state(self.edition.pk) == Edition.State.CANCELLED
        if cancelled:
            self.held(*ids).update(state=State.SKIPPED, error="edition cancelled")
        else:
            self.released += self.held(*ids).update(state=State.QUEUED, claimed_until=None)
        self.position = len(self.rows)


class Check(NamedTuple):
    held: bool
    edition_state: str
    errors: int
    suppression: str
    email: str
    status: str | None


def claim_send(claim: Claim) -> None:
    """Send every row of the claim over one connection; release what was not sent."""
    connection: BaseEmailBackend | None = None
    healthy = False  # an unexpected error may leave an SMTP transaction open: not reused
    try:
        _overlap_start(claim)
        while claim.position < len(claim.rows):
            claim.renew_if_due()
            connection = _row_send(claim, claim.rows[claim.position], connection)
            claim.position += 1
        healthy = True
    except BatchStopped:
        healthy = True
    finally:
        _overlap_end(claim)
        claim.flush()
        claim.release_unsent()
        if connection is not None:
            smtp.connection_give_back(connection, healthy=healthy)


def _overlap_start(claim: Claim) -> None:
    claim.prebuilt = edition_bytes.prebuilt_for(edition=claim.edition)
    claim.values = edition_bytes.RecipientValues(claim.edition)
    if claim.prebuilt is not None and edition_overlap.available():
        claim.lookahead = edition_overlap.Lookahead()


def _overlap_end(claim: Claim) -> None:
    """End the helper thread; its failure must not keep the marks and releases from running."""
    if claim.lookahead is None:
        return
    try:
        claim.lookahead.close()
    except Exception:
        logger.exception("newsletter: edition %s: closing the helper failed", claim.edition.pk)
    claim.lookahead = None


def _row_send(
    claim: Claim, row: Row, connection: BaseEmailBackend | None
) -> BaseEmailBackend | None:
    """Re-check one row and send its message; return the connection to go on with."""
    row_id, subscriber_id, attempts, email = row
    link = _smtp_of(connection) if connection is not None else None
    if claim.lookahead is not None and link is not None:
        assert connection is not None
        wire = _wire(claim, subscriber_id, email)
        if wire is not None:
            return _row_send_overlapped(claim, row, connection, link, wire)
    check = check_row(claim, row_id)
    if check is None:
        return connection
    send_slot_wait()
    connection = connection or smtp.connection_take()
    return _deliver(claim, row_id, attempts, connection, check, subscriber_id)


def _deliver(
    claim: Claim,
    row_id: int,
    attempts: int,
    connection: BaseEmailBackend,
    check: Check,
    subscriber_id: int = 0,
    *,
    wire: edition_bytes.Wire | None = None,
) -> BaseEmailBackend | None:
    """Send (the rest of) the checked row's message; mark a failure, or the row to mark."""
    try:
        if wire is None:
            _send(claim, subscriber_id, check.email, connection)
        else:
            link = _smtp_of(connection)
            assert link is not None  # an overlapped send has its SMTP session
            edition_bytes.smtp_data(link, wire=wire)
    except (smtplib.SMTPRecipientsRefused, AnymailRecipientsRefused) as error:
        return _refused(claim, row_id, attempts, error, connection)
    except (smtplib.SMTPException, OSError, AnymailError) as error:
        server_failed(claim, row_id, attempts, error, connection)
        return None
    claim.unmarked = (row_id, timezone.now())  # marked before the next email goes
    if check.errors:
        Edition.objects.filter(pk=claim.edition.pk).update(consecutive_errors=0)
    return connection


def _refused(
    claim: Claim, row_id: int, attempts: int, error: Exception, connection: BaseEmailBackend
) -> BaseEmailBackend | None:
    """A refused recipient: failed for good on a 5xx, else one more server failure."""
    if not _permanent(error):
        server_failed(claim, row_id, attempts, error, connection)
        return None
    claim.failed += claim.mark(row_id, State.FAILED, str(error))
    return connection


def _row_send_overlapped(
    claim: Claim,
    row: Row,
    connection: BaseEmailBackend,
    link: smtplib.SMTP,
    wire: edition_bytes.Wire,
) -> BaseEmailBackend | None:
    """Mark the previous row and check this one (one statement) on the helper thread while
    MAIL FROM and RCPT TO go; DATA once it answered."""
    row_id, _, attempts, _ = row
    lookahead, prebuilt = claim.lookahead, claim.prebuilt
    assert lookahead is not None and prebuilt is not None  # _row_send checked
    send_slot_wait()
    # A failed statement marked nothing: claim.unmarked stays for claim.flush() to retry.
    pending = lookahead.check(**_check_arguments(claim, row_id))
    envelope_error: Exception | None = None
    try:
        try:
            edition_bytes.smtp_envelope(link, sender=prebuilt.sender, wire=wire)
        except (smtplib.SMTPException, OSError) as error:
            envelope_error = error
        finally:
            found, marked = pending.result()
        check = _checked(claim, row_id, found, marked)
    except BaseException:  # no DATA: the open transaction is dropped
        edition_bytes.smtp_abandon(link)
        raise
    if check is None or check.email != wire.recipient or envelope_error is not None:
        return _overlap_undone(claim, row, connection, check, envelope_error)
    return _deliver(claim, row_id, attempts, connection, check, wire=wire)


def _overlap_undone(
    claim: Claim,
    row: Row,
    connection: BaseEmailBackend,
    check: Check | None,
    error: Exception | None,
) -> BaseEmailBackend | None:
    """The envelope went but DATA must not: not to go, a changed address, or an error."""
    row_id, subscriber_id, attempts, _ = row
    if error is not None and check is not None:
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            return _refused(claim, row_id, attempts, error, connection)
        server_failed(claim, row_id, attempts, error, connection)
        return None
    if error is not None:  # the row is not to go anyway: start on a fresh connection
        smtp.connection_give_back(connection, healthy=False)
        return None
    link = _smtp_of(connection)
    assert link is not None
    edition_bytes.smtp_abandon(link)
    if check is None:
        return connection
    # The address changed since the claim: the message goes to the new one.
    return _deliver(claim, row_id, attempts, connection, check, subscriber_id)


def _send(claim: Claim, subscriber_id: int, email: str, connection: BaseEmailBackend) -> None:
    """Send one recipient's message: prebuilt bytes over SMTP, else the regular message."""
    connection.open()  # once: later messages reuse the open SMTP connection
    wire = _wire(claim, subscriber_id, email)
    link = _smtp_of(connection)
    if wire is None or link is None or claim.prebuilt is None:
        subscriber = Subscriber(pk=subscriber_id, email=email)
        _message_for(claim.edition, subscriber, connection).send()
        return
    edition_bytes.smtp_send(link, sender=claim.prebuilt.sender, wire=wire)


def _wire(claim: Claim, subscriber_id: int, email: str) -> edition_bytes.Wire | None:
    """Return the recipient's copy of the prebuilt message, if it can go that way."""
    if claim.prebuilt is None or claim.values is None:
        return None
    values = claim.values.values(subscriber_id=subscriber_id, email=email)
    return claim.prebuilt.wire_for(**values)


def _smtp_of(connection: BaseEmailBackend) -> smtplib.SMTP | None:
    """Return the open SMTP session of Django's SMTP backend (None for other backends)."""
    if not isinstance(connection, SmtpBackend):
        return None
    link = connection.connection
    return link if isinstance(link, smtplib.SMTP) else None


def _message_for(edition: Edition, subscriber: Subscriber, connection: BaseEmailBackend) -> Any:
    return edition_email.edition_message_for(
        edition=edition, subscriber=subscriber, connection=connection
    )


def check_row(claim: Claim, row_id: int) -> Check | None:
    """Read the row, its edition and its subscriber again; None when it must not go out."""
    found, marked = sql.edition_row_check(**_check_arguments(claim, row_id))
    return _checked(claim, row_id, found, marked)


def _check_arguments(claim: Claim, row_id: int) -> dict[str, Any]:
    """The row's check, marking the row sent just before (``unmarked``) in the same trip."""
    return {
        "row_id": row_id,
        "until": claim.until,
        "list_id": claim.edition.mailing_list_id,
        "sent": claim.unmarked,
    }


def _checked(claim: Claim, row_id: int, found: sql.Checked | None, marked: int) -> Check | None:
    """Count the mark; return the check, None when the row must not go out (skipped)."""
    claim.sent += marked
    claim.unmarked = None
    check = Check(*found) if found else None
    if check is None or not check.held:
        return None  # lease lapsed and another worker holds it
    if check.edition_state != Edition.State.SENDING:
        raise BatchStopped
    reason = _skip_reason(check)
    if reason:
        claim.mark(row_id, State.SKIPPED, reason)
        return None
    return check


def _skip_reason(check: Check) -> str:
    if check.suppression:
        before, after = sql.SKIP_SUPPRESSED
        return f"{before}{check.suppression}{after}"
    if check.status != Subscription.Status.CONFIRMED:
        return sql.SKIP_UNSUBSCRIBED
    return ""


def _permanent(error: Exception) -> bool:
    """A provider's refusal is for good; the SMTP server's when every code is 5xx."""
    if not isinstance(error, smtplib.SMTPRecipientsRefused):
        return True
    return all(code >= 500 for code, _ in error.recipients.values())


def server_failed(
    claim: Claim,
    row_id: int,
    attempts: int,
    error: Exception,
    connection: BaseEmailBackend,
    rest: Sequence[tuple[int, int, int, object]] = (),
) -> None:
    """Count one failure in a row; give the rows back (or up); pause at the limit.

    ``rest`` are the other rows of the same provider call, which failed with it.
    """
    logger.warning("newsletter: edition %s row %s failed: %r", claim.edition.pk, row_id, error)
    smtp.connection_give_back(connection, healthy=False)
    for failed_id, failed_attempts in [(row_id, attempts), *((r[0], r[2]) for r in rest)]:
        if failed_attempts >= MAX_ATTEMPTS:
            claim.failed += claim.mark(failed_id, State.FAILED, repr(error))
        else:
            claim.released += claim.held(failed_id).update(
                state=State.QUEUED, claimed_until=None, error=repr(error)[:500]
            )
    errors = edition_pausing.errors_count_up(claim.edition.pk)
    if errors >= settings.REEX_SEND_MAX_ERRORS:
        edition_pausing.edition_pause_on_errors(
            edition_id=claim.edition.pk, errors=errors, error=error
        )
        raise BatchStopped
    time.sleep(min(ERROR_BACKOFF_SECONDS * 2 ** (errors - 1), ERROR_BACKOFF_MAX_SECONDS))


def _edition_state(edition_id: int) -> str | None:
    return Edition.objects.filter(pk=edition_id).values_list("state", flat=True).first()
