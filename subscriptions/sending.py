"""Sending the emails a subscriber gets: queueing, claiming, sending once, the sweep.

A Delivery row is the queue; a task names the rows it was published for and claims
them, with other fresh ones, in one statement (``sql.deliveries_claim``).
"""

import logging
import smtplib
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from reex import metrics, smtp, wakeup
from reex.enqueue import enqueue
from subscriptions import emails, sql, tasks
from subscriptions.models import Delivery, MailingList, Subscription

logger = logging.getLogger(__name__)

Status = Delivery.Status
# One task sends its own deliveries and other fresh ones, up to this many in all.
SEND_BATCH = 50
# A claim older than this belongs to a worker that died while sending.
STALE_CLAIM = timedelta(minutes=15)
# Queued mail untouched this long lost its task (broker restart, retries exhausted).
ABANDONED_AFTER = timedelta(minutes=15)
# The on_commit enqueue has had this long to mark the row.
ENQUEUE_GRACE = timedelta(seconds=60)
REQUEUE_BATCH = 50

Subscriptions = dict[int, list[Subscription]]


class DeliveriesReleased(Exception):
    """Sending stopped on an SMTP or connection error; these deliveries wait for a retry."""

    def __init__(self, *, delivery_ids: list[int], error: Exception) -> None:
        super().__init__(f"{len(delivery_ids)} deliveries released after {error!r}")
        self.delivery_ids = delivery_ids
        self.error = error


def deliveries_enqueue_on_commit(*, delivery_ids: Sequence[int]) -> None:
    """Publish the sending task once the rows, created with ``enqueued_at`` set, commit.

    Marking the rows in advance saves a write per sign-up; when the broker refuses the
    task the mark is taken back, so the sweep re-queues them soon.
    """
    ids = list(delivery_ids)
    if ids:
        transaction.on_commit(partial(_publish_or_unmark, ids))


def _publish_or_unmark(ids: list[int]) -> None:
    # Inside an open wake-up window nothing is published: the woken task takes the rows.
    if not wakeup.wake(tasks.send_deliveries, ids, name="deliveries"):
        Delivery.objects.filter(pk__in=ids).update(enqueued_at=None)


def deliveries_enqueue(*, delivery_ids: Sequence[int]) -> bool:
    """Put one sending task on the broker; when it is down, leave the rows to the sweep."""
    ids = list(delivery_ids)
    if not enqueue(tasks.send_deliveries, ids):
        return False
    Delivery.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())
    return True


def deliveries_send(*, delivery_ids: Sequence[int]) -> int:
    """Send the deliveries named, with other fresh ones, each once; return how many went out.

    The batch (up to SEND_BATCH) goes over one connection, which a worker keeps for its
    next task (``reex.smtp``). On an SMTP or connection error every delivery not sent yet
    goes back to the queue and DeliveriesReleased names them for the task's retry; any
    other error leaves them to the sweep. Sent ones stay sent.
    """
    return _deliveries_send_claimed(_deliveries_claim(delivery_ids=delivery_ids))


def deliveries_send_woken(*, delivery_ids: Sequence[int]) -> int:
    """Send the task's deliveries, then every fresh one queued while it ran; count sent."""
    with wakeup.handed_over_on_failure("deliveries", tasks.send_deliveries, []):
        sent = deliveries_send(delivery_ids=delivery_ids)
    batches: list[int] = []

    def take() -> int:
        claimed = _deliveries_claim(delivery_ids=[])
        batches.append(_deliveries_send_claimed(claimed))
        return len(claimed)

    wakeup.drain_until_quiet("deliveries", take)
    return sent + sum(batches)


def _deliveries_send_claimed(claimed: list[Delivery]) -> int:
    if not claimed:
        return 0
    subscriptions = _subscriptions_of(claimed)
    connection = None
    sent = 0
    healthy = False
    try:
        for index, delivery in enumerate(claimed):
            try:
                pending = _pending_lists(delivery, subscriptions)
                if _delivery_skipped(delivery, subscriptions=subscriptions, pending=pending):
                    continue
                if connection is None:
                    connection = smtp.connection_take()
                sent += _delivery_send(delivery=delivery, connection=connection, pending=pending)
            except Exception as error:
                _deliveries_release(claimed[index:], error=error)
                if isinstance(error, smtplib.SMTPException | OSError):
                    ids = [d.pk for d in claimed[index:]]
                    raise DeliveriesReleased(delivery_ids=ids, error=error) from error
                raise
        healthy = True
    finally:
        if connection is not None:
            smtp.connection_give_back(connection, healthy=healthy)
    return sent


def _deliveries_claim(*, delivery_ids: Sequence[int]) -> list[Delivery]:
    """Claim the task's own deliveries and the newest fresh ones; return them, own first.

    Deliveries that failed before are left to their own task's retry (with its backoff)
    or to the sweep.
    """
    own = [int(pk) for pk in delivery_ids]
    ids = sql.deliveries_claim(own=own, limit=SEND_BATCH, now=timezone.now())
    if not ids:
        return []
    claimed = Delivery.objects.select_related("subscriber", "mailing_list").filter(pk__in=ids)
    newest_first = sorted(claimed, key=lambda d: (d.created_at, d.pk), reverse=True)
    return sorted(newest_first, key=lambda d: d.pk not in own)


def _subscriptions_of(claimed: list[Delivery]) -> Subscriptions:
    """Return the subscriptions of the batch's addresses (lists in name order), read once."""
    by_subscriber: Subscriptions = {d.subscriber_id: [] for d in claimed}
    rows = Subscription.objects.filter(subscriber_id__in=by_subscriber).select_related(
        "mailing_list"
    )
    for subscription in rows.order_by("mailing_list__name", "id"):
        by_subscriber[subscription.subscriber_id].append(subscription)
    return by_subscriber


def _pending_lists(delivery: Delivery, subscriptions: Subscriptions) -> list[MailingList]:
    """Return the lists a confirmation confirms (and names); none for other emails."""
    if delivery.kind != Delivery.Kind.CONFIRMATION:
        return []
    mine = subscriptions[delivery.subscriber_id]
    return [s.mailing_list for s in mine if s.status == Subscription.Status.PENDING]


def _delivery_skipped(
    delivery: Delivery, *, subscriptions: Subscriptions, pending: list[MailingList]
) -> bool:
    """Mark the email skipped when it must not go out any more; return whether it was."""
    reason = _delivery_obsolete(delivery, subscriptions=subscriptions, pending=pending)
    if reason:
        _delivery_finish(delivery=delivery, status=Status.SKIPPED, error=reason)
    return bool(reason)


def _delivery_obsolete(
    delivery: Delivery, *, subscriptions: Subscriptions, pending: list[MailingList]
) -> str:
    """Return why the email must not go out any more, or an empty string."""
    subscriber = delivery.subscriber
    if subscriber.is_suppressed:
        return f"address suppressed ({subscriber.suppression})"
    if delivery.kind == Delivery.Kind.CONFIRMATION:
        if delivery.nonce != subscriber.confirm_nonce:
            return "a newer confirmation replaced it"
        if not pending:
            return "nothing left to confirm"
    elif not any(
        s.mailing_list_id == delivery.mailing_list_id and s.status == Subscription.Status.CONFIRMED
        for s in subscriptions[delivery.subscriber_id]
    ):
        return "no longer subscribed"
    return ""


def _delivery_send(
    *, delivery: Delivery, connection: BaseEmailBackend, pending: list[MailingList]
) -> int:
    message = emails.delivery_message(delivery=delivery, connection=connection, pending=pending)
    try:
        connection.open()  # once: later messages reuse the open SMTP connection
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        if not _permanent(error):
            raise
        _delivery_finish(delivery=delivery, status=Status.FAILED, error=str(error))
        return 0
    _delivery_finish(delivery=delivery, status=Status.SENT)
    metrics.EMAILS_SENT.labels(delivery.kind).inc()
    return 1


def _permanent(error: smtplib.SMTPRecipientsRefused) -> bool:
    return all(code >= 500 for code, _ in error.recipients.values())


def _delivery_finish(*, delivery: Delivery, status: str, error: str = "") -> None:
    Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=status,
        sent_at=timezone.now() if status == Status.SENT else None,
        last_error=error[:500],
    )


def _deliveries_release(unsent: list[Delivery], *, error: BaseException) -> None:
    """Queue the deliveries not sent again; the one that failed records the error."""
    failed, rest = unsent[0], unsent[1:]
    logger.warning("subscriptions: delivery %s failed, will retry: %r", failed.pk, error)
    sending = Delivery.objects.filter(status=Status.SENDING)
    sending.filter(pk=failed.pk).update(
        status=Status.QUEUED, claimed_at=None, last_error=repr(error)[:500]
    )
    sending.filter(pk__in=[d.pk for d in rest]).update(status=Status.QUEUED, claimed_at=None)


def deliveries_requeue() -> int:
    """Re-queue mail whose task was lost; give up on mail older than a link lives."""
    now = timezone.now()
    Delivery.objects.filter(status=Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=Status.QUEUED, claimed_at=None
    )
    give_up = now - timedelta(hours=settings.REEX_CONFIRMATION_MAX_AGE_HOURS)
    Delivery.objects.filter(status=Status.QUEUED, created_at__lt=give_up).update(
        status=Status.FAILED, last_error="gave up: not sent in time"
    )
    ids = _deliveries_abandoned(now=now)
    for start in range(0, len(ids), REQUEUE_BATCH):
        if not deliveries_enqueue(delivery_ids=ids[start : start + REQUEUE_BATCH]):
            break
    return len(ids)


def _deliveries_abandoned(*, now: datetime) -> list[int]:
    """Return queued mail the broker never got, or whose task and retries are gone."""
    cut = now - ABANDONED_AFTER
    never_enqueued = Q(enqueued_at=None, created_at__lt=now - ENQUEUE_GRACE)
    abandoned = Q(enqueued_at__lt=cut) & (Q(last_attempt_at=None) | Q(last_attempt_at__lt=cut))
    return list(
        Delivery.objects.filter(status=Status.QUEUED)
        .filter(never_enqueued | abandoned)
        .order_by("created_at")
        .values_list("pk", flat=True)[: REQUEUE_BATCH * 10]
    )


# Editions are sent by their own module; the editions' services reach it through here.
from subscriptions.edition_sending import edition_continue, edition_fan_out  # noqa: E402, F401
