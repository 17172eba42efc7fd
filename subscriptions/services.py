"""Every write of the subscriptions capability: the one place its rules run."""

import contextlib
import logging
import secrets
import smtplib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from privacy.hashing import email_hash
from subscriptions import emails, selectors, tasks, tokens
from subscriptions.consent import Consent
from subscriptions.models import (
    ConsentEvent,
    Delivery,
    MailingList,
    Subscriber,
    Subscription,
    Suppression,
)

logger = logging.getLogger(__name__)

Source = ConsentEvent.Source
Action = ConsentEvent.Action
Status = Subscription.Status

# No more confirmation emails than this to one address in 24 hours.
CONFIRMATION_DAILY_CAP = 5


@dataclass(frozen=True)
class Requester:
    """Who asked: kept in the consent log with every event."""

    source: str
    ip: str | None = None
    user_agent: str = ""


def email_normalise(email: str) -> str:
    """Return the address stripped, with its domain lower-cased; raise ValidationError."""
    email = email.strip()
    validate_email(email)
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def _event(
    *,
    subscriber_id: int,
    action: str,
    requester: Requester,
    list_id: int | None = None,
    consent: Consent | None = None,
    reference: str = "",
    detail: str = "",
) -> ConsentEvent:
    """Return a consent log entry, not saved yet (several are saved in one statement)."""
    return ConsentEvent(
        subscriber_id=subscriber_id,
        mailing_list_id=list_id,
        action=action,
        source=requester.source,
        ip_address=requester.ip,
        user_agent=requester.user_agent[:500],
        consent_version=consent.version if consent else "",
        consent_text=consent.text if consent else "",
        reference=reference[:200],
        detail=detail[:500],
    )


def _log(
    *,
    subscriber: Subscriber,
    action: str,
    requester: Requester,
    mailing_list: MailingList | None = None,
    consent: Consent | None = None,
    reference: str = "",
    detail: str = "",
) -> None:
    _event(
        subscriber_id=subscriber.pk,
        action=action,
        requester=requester,
        list_id=mailing_list.pk if mailing_list else None,
        consent=consent,
        reference=reference,
        detail=detail,
    ).save()


# One statement creates a new address (with the suppression an erased address comes back
# with: privacy keeps its keyed hash) or does nothing when it exists in any letter case.
_SUBSCRIBER_INSERT = """
INSERT INTO subscriptions_subscriber
    (email, suppression, suppressed_at, soft_bounces, confirm_nonce, created_at, updated_at)
VALUES (%s, COALESCE((SELECT reason FROM privacy_suppressedhash WHERE email_hash = %s), ''),
        (SELECT %s FROM privacy_suppressedhash WHERE email_hash = %s), 0, %s, %s, %s)
ON CONFLICT DO NOTHING
RETURNING *
"""


def _subscriber_upsert(*, email: str) -> tuple[Subscriber, bool]:
    """Return the address's subscriber, locked for this transaction, and whether it is new.

    A new subscriber already carries a confirmation nonce. A concurrent sign-up for the
    same address waits on the unique index, then finds the row the other one committed.
    """
    now = timezone.now()
    hashed = email_hash(email)
    nonce = secrets.token_urlsafe(12)
    params = [email, hashed, now, hashed, nonce, now, now]
    for created in Subscriber.objects.raw(_SUBSCRIBER_INSERT, params):
        return created, True
    return selectors.subscribers_by_email(email=email).select_for_update().get(), False


@transaction.atomic
def subscription_request(
    *,
    email: str,
    lists: Sequence[MailingList],
    consent: Consent,
    requester: Requester,
) -> None:
    """Record a sign-up and send a confirmation email when the rules allow one.

    The caller answers the same whatever happens here, so that nobody learns whether an
    address is subscribed.
    """
    subscriber, created = _subscriber_upsert(email=email_normalise(email))
    ConsentEvent.objects.bulk_create(
        _event(
            subscriber_id=subscriber.pk,
            action=Action.REQUESTED,
            requester=requester,
            list_id=m.pk,
            consent=consent,
        )
        for m in lists
    )
    if subscriber.is_suppressed:
        return
    if created:
        _first_request(subscriber=subscriber, lists=lists)
    elif _request_again(subscriber=subscriber, lists=lists):
        confirmation_send(subscriber=subscriber)


def _first_request(*, subscriber: Subscriber, lists: Sequence[MailingList]) -> None:
    """Subscribe a new address, pending, and queue its first confirmation email.

    Nothing to check first: a new address has no subscription and no email yet.
    """
    now = timezone.now()
    Subscription.objects.bulk_create(
        Subscription(subscriber=subscriber, mailing_list=m, requested_at=now) for m in lists
    )
    _confirmation_create(subscriber=subscriber, list_id=lists[0].pk)


def _request_again(*, subscriber: Subscriber, lists: Sequence[MailingList]) -> bool:
    """Make the lists pending again unless confirmed; return whether any is pending."""
    now = timezone.now()
    pending = False
    # One read for every list; the subscriber's row lock keeps other sign-ups out.
    existing = {
        s.mailing_list_id: s for s in subscriber.subscriptions.filter(mailing_list__in=lists)
    }
    for mailing_list in lists:
        subscription = existing.get(mailing_list.pk)
        if subscription is None:
            Subscription.objects.create(
                subscriber=subscriber, mailing_list=mailing_list, requested_at=now
            )
            pending = True
            continue
        if subscription.status == Status.UNSUBSCRIBED:
            subscription.status = Status.PENDING
        if subscription.status == Status.PENDING:
            subscription.requested_at = now
            subscription.save(update_fields=["status", "requested_at"])
            pending = True
    return pending


def confirmation_allowed(*, subscriber: Subscriber) -> bool:
    """Return whether one more confirmation email may go to this address now."""
    now = timezone.now()
    recent = Delivery.objects.filter(
        subscriber=subscriber,
        kind=Delivery.Kind.CONFIRMATION,
        created_at__gt=now - timedelta(hours=24),
    )
    cooldown = timedelta(seconds=settings.REEX_CONFIRMATION_COOLDOWN_SECONDS)
    counts = recent.aggregate(
        today=Count("id"), cooling=Count("id", filter=Q(created_at__gt=now - cooldown))
    )
    return counts["cooling"] == 0 and counts["today"] < CONFIRMATION_DAILY_CAP


def confirmation_send(*, subscriber: Subscriber, ignore_cooldown: bool = False) -> bool:
    """Queue a fresh confirmation email (killing older links); return whether one was queued.

    The caller holds the subscriber's row lock. Staff may skip the cooldown, never the cap.
    """
    pending = subscriber.subscriptions.filter(status=Status.PENDING).order_by("id").first()
    if pending is None or subscriber.is_suppressed:
        return False
    if ignore_cooldown:
        allowed = _confirmations_today(subscriber=subscriber) < CONFIRMATION_DAILY_CAP
    else:
        allowed = confirmation_allowed(subscriber=subscriber)
    if not allowed:
        return False
    subscriber.confirm_nonce = secrets.token_urlsafe(12)
    subscriber.save(update_fields=["confirm_nonce", "updated_at"])
    _confirmation_create(subscriber=subscriber, list_id=pending.mailing_list_id)
    return True


def _confirmation_create(*, subscriber: Subscriber, list_id: int) -> None:
    """Queue the email carrying the subscriber's current confirmation link."""
    delivery = Delivery.objects.create(
        subscriber=subscriber,
        mailing_list_id=list_id,
        kind=Delivery.Kind.CONFIRMATION,
        nonce=subscriber.confirm_nonce,
        enqueued_at=timezone.now(),
    )
    deliveries_enqueue_on_commit(delivery_ids=[delivery.pk])


def _confirmations_today(*, subscriber: Subscriber) -> int:
    since = timezone.now() - timedelta(hours=24)
    return Delivery.objects.filter(
        subscriber=subscriber, kind=Delivery.Kind.CONFIRMATION, created_at__gt=since
    ).count()


def confirmation_resend(
    *, subscriber_id: int, requester: Requester, ignore_cooldown: bool = False
) -> bool:
    """Send a new confirmation link (expired link page, admin action), throttled as sign-ups."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
        if subscriber is None:
            return False
        return confirmation_send(subscriber=subscriber, ignore_cooldown=ignore_cooldown)


@transaction.atomic
def subscription_confirm(*, token: str, requester: Requester) -> Subscriber:
    """Confirm every pending list of the token's subscriber; repeating it changes nothing.

    Raise tokens.TokenInvalid or tokens.TokenExpired (also when a newer link replaced it).
    """
    checked = selectors.confirmation_subscriber(token=token)
    subscriber = Subscriber.objects.select_for_update().filter(pk=checked.pk).first()
    if subscriber is None:
        raise tokens.TokenInvalid()
    if subscriber.confirm_nonce != checked.confirm_nonce:
        # A new link was sent between the check and the lock.
        raise tokens.TokenExpired(subscriber_id=subscriber.pk)
    if subscriber.is_suppressed:
        return subscriber
    now = timezone.now()
    pending = list(
        subscriber.subscriptions.select_related("mailing_list").filter(status=Status.PENDING)
    )
    welcome_ids = []
    for subscription in pending:
        subscription.status = Status.CONFIRMED
        subscription.confirmed_at = now
        subscription.save(update_fields=["status", "confirmed_at"])
        _log(
            subscriber=subscriber,
            action=Action.CONFIRMED,
            requester=requester,
            mailing_list=subscription.mailing_list,
        )
        welcome = Delivery.objects.create(
            subscriber=subscriber,
            mailing_list=subscription.mailing_list,
            kind=Delivery.Kind.WELCOME,
            enqueued_at=now,
        )
        welcome_ids.append(welcome.pk)
    if pending:
        Subscriber.objects.filter(pk=subscriber.pk).update(soft_bounces=0, updated_at=now)
        deliveries_enqueue_on_commit(delivery_ids=welcome_ids)
    return subscriber


@transaction.atomic
def subscription_unsubscribe(
    *, subscriber_id: int, list_ids: Sequence[int] | None, requester: Requester
) -> list[int]:
    """Unsubscribe from the given lists (None: from all) at once; return the ids it left."""
    active = Subscription.objects.filter(subscriber_id=subscriber_id).exclude(
        status=Status.UNSUBSCRIBED
    )
    if list_ids is not None:
        active = active.filter(mailing_list_id__in=list_ids)
    now = timezone.now()
    if list_ids is not None and len(list_ids) == 1:
        # One list (a link's one-click): the conditional UPDATE says whether it changed.
        left = active.update(status=Status.UNSUBSCRIBED, unsubscribed_at=now)
        changed = list(list_ids) if left else []
    else:
        locked = dict(active.select_for_update().values_list("pk", "mailing_list_id"))
        Subscription.objects.filter(pk__in=locked).update(
            status=Status.UNSUBSCRIBED, unsubscribed_at=now
        )
        changed = list(locked.values())
    ConsentEvent.objects.bulk_create(
        _event(
            subscriber_id=subscriber_id,
            action=Action.UNSUBSCRIBED,
            requester=requester,
            list_id=list_id,
        )
        for list_id in changed
    )
    return changed


def subscription_unsubscribe_by_token(
    *, token: str, everything: bool, requester: Requester
) -> tokens.UnsubscribeToken:
    """Unsubscribe the token's subscriber from its list (or from all); raise TokenInvalid."""
    content = tokens.unsubscribe_token_read(token)
    changed = subscription_unsubscribe(
        subscriber_id=content.subscriber_id,
        list_ids=None if everything else [content.list_id],
        requester=requester,
    )
    # Nothing changed: already unsubscribed, or the address is gone (then the link is dead).
    if not changed and not Subscriber.objects.filter(pk=content.subscriber_id).exists():
        raise tokens.TokenInvalid()
    return content


@transaction.atomic
def subscriber_suppress(
    *,
    subscriber_id: int,
    reason: str,
    requester: Requester,
    reference: str = "",
    detail: str = "",
) -> bool:
    """Suppress the address for good (bounced, complained, staff); return whether it changed."""
    subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
    if subscriber is None:
        return False
    action = {
        Suppression.BOUNCED: Action.BOUNCED,
        Suppression.COMPLAINED: Action.COMPLAINED,
        Suppression.MANUAL: Action.SUPPRESSED,
    }[Suppression(reason)]
    _log(
        subscriber=subscriber,
        action=action,
        requester=requester,
        reference=reference,
        detail=detail,
    )
    if subscriber.is_suppressed:
        return False
    subscriber.suppression = reason
    subscriber.suppressed_at = timezone.now()
    subscriber.save(update_fields=["suppression", "suppressed_at", "updated_at"])
    return True


# --- tracking: bounces and complaints reported by the email provider ----------------


class TrackingKind:
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    COMPLAINT = "complaint"
    DELIVERED = "delivered"
    UNSUBSCRIBED = "unsubscribed"


@transaction.atomic
def tracking_event_record(*, email: str, kind: str, reference: str = "", detail: str = "") -> None:
    """Apply one provider event; a redelivered event (same reference) changes nothing."""
    subscriber = selectors.subscribers_by_email(email=email).select_for_update().first()
    if subscriber is None:
        return
    if reference and ConsentEvent.objects.filter(reference=reference[:200]).exists():
        return
    requester = Requester(source=Source.WEBHOOK)
    if kind == TrackingKind.DELIVERED:
        Subscriber.objects.filter(pk=subscriber.pk).update(soft_bounces=0)
    elif kind == TrackingKind.HARD_BOUNCE:
        subscriber_suppress(
            subscriber_id=subscriber.pk,
            reason=Suppression.BOUNCED,
            requester=requester,
            reference=reference,
            detail=detail,
        )
    elif kind == TrackingKind.COMPLAINT:
        subscriber_suppress(
            subscriber_id=subscriber.pk,
            reason=Suppression.COMPLAINED,
            requester=requester,
            reference=reference,
            detail=detail,
        )
    elif kind == TrackingKind.SOFT_BOUNCE:
        _soft_bounce(subscriber=subscriber, reference=reference, detail=detail)
    elif kind == TrackingKind.UNSUBSCRIBED:
        subscription_unsubscribe(subscriber_id=subscriber.pk, list_ids=None, requester=requester)


def _soft_bounce(*, subscriber: Subscriber, reference: str, detail: str) -> None:
    requester = Requester(source=Source.WEBHOOK)
    _log(
        subscriber=subscriber,
        action=Action.SOFT_BOUNCED,
        requester=requester,
        reference=reference,
        detail=detail,
    )
    Subscriber.objects.filter(pk=subscriber.pk).update(soft_bounces=F("soft_bounces") + 1)
    subscriber.refresh_from_db(fields=["soft_bounces"])
    limit = settings.REEX_SOFT_BOUNCE_LIMIT
    if limit and subscriber.soft_bounces >= limit:
        subscriber_suppress(
            subscriber_id=subscriber.pk,
            reason=Suppression.BOUNCED,
            requester=requester,
            detail=f"{subscriber.soft_bounces} soft bounces in a row",
        )


# --- sending ------------------------------------------------------------------------

# A claim older than this belongs to a worker that died while sending.
STALE_CLAIM = timedelta(minutes=15)
# Queued mail untouched this long lost its task (broker restart, retries exhausted).
ABANDONED_AFTER = timedelta(minutes=15)
# The on_commit enqueue has had this long to mark the row.
ENQUEUE_GRACE = timedelta(seconds=60)
REQUEUE_BATCH = 50


def deliveries_enqueue_on_commit(*, delivery_ids: Sequence[int]) -> None:
    """Publish the sending task once the rows, created with ``enqueued_at`` set, commit.

    Marking the rows in advance saves a write per sign-up; when the broker refuses the
    task the mark is taken back, so the sweep re-queues them within a minute.
    """
    ids = list(delivery_ids)
    if ids:
        transaction.on_commit(partial(_publish_or_unmark, ids))


def _publish_or_unmark(ids: list[int]) -> None:
    if not _publish(ids):
        Delivery.objects.filter(pk__in=ids).update(enqueued_at=None)


def deliveries_enqueue(*, delivery_ids: Sequence[int]) -> bool:
    """Put one sending task on the broker; when it is down, leave the rows to the sweep."""
    ids = list(delivery_ids)
    if not _publish(ids):
        return False
    Delivery.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())
    return True


def _publish(ids: list[int]) -> bool:
    """Publish ``send_deliveries(ids)``; return False when the broker is unreachable."""
    try:
        tasks.send_deliveries.delay(ids)
    except (KombuOperationalError, OSError) as error:
        logger.warning(
            "subscriptions: broker unreachable, %d emails wait for the sweep: %s", len(ids), error
        )
        return False
    return True


@dataclass
class _KeptConnection:
    """The email connection a worker process keeps open between sending tasks."""

    enabled: bool = False
    backend: BaseEmailBackend | None = None
    last_used: float = 0.0


# A kept connection idle longer than this is closed rather than reused (mail servers drop
# idle clients after a minute or more; a NOOP also proves it alive before each task).
KEPT_CONNECTION_IDLE_SECONDS = 30.0
_kept = _KeptConnection()


def smtp_connection_keep(*, enabled: bool) -> None:
    """Keep one email connection open across sending tasks in this process (workers)."""
    _kept.enabled = enabled
    if not enabled:
        _connection_discard()


def _connection_discard() -> None:
    backend, _kept.backend = _kept.backend, None
    _connection_close(backend)


def _connection_close(backend: BaseEmailBackend | None) -> None:
    if backend is not None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            backend.close()


def _connection_alive(backend: BaseEmailBackend) -> bool:
    smtp = getattr(backend, "connection", None)
    if smtp is None:  # never opened, or a backend without a socket (file, memory)
        return True
    try:
        return bool(smtp.noop()[0] == 250)
    except (smtplib.SMTPException, OSError):
        return False


def _connection_take() -> BaseEmailBackend:
    """Return the kept connection when it is fresh and alive, else a new one."""
    backend = _kept.backend if _kept.enabled else None
    _kept.backend = None  # held by this call until _connection_give_back
    fresh = time.monotonic() - _kept.last_used < KEPT_CONNECTION_IDLE_SECONDS
    if backend is not None and fresh and _connection_alive(backend):
        return backend
    _connection_close(backend)
    return get_connection(fail_silently=False)


def _connection_give_back(backend: BaseEmailBackend, *, healthy: bool) -> None:
    if _kept.enabled and healthy and _kept.backend is None:
        _kept.backend, _kept.last_used = backend, time.monotonic()
    else:
        _connection_close(backend)


# One task sends its own deliveries and other fresh ones, up to this many in all.
SEND_BATCH = 50


class DeliveriesReleased(Exception):
    """Sending stopped on an SMTP or connection error; these deliveries wait for a retry."""

    def __init__(self, *, delivery_ids: list[int], error: Exception) -> None:
        super().__init__(f"{len(delivery_ids)} deliveries released after {error!r}")
        self.delivery_ids = delivery_ids
        self.error = error


def deliveries_send(*, delivery_ids: Sequence[int]) -> int:
    """Send the deliveries named, with other fresh ones, each once; return how many went out.

    The batch (up to SEND_BATCH) goes over one SMTP connection, which a worker keeps open
    for its next task (``smtp_connection_keep``). On an SMTP or connection error every
    delivery not sent yet goes back to the queue and DeliveriesReleased names them for
    the task's retry; any other error leaves them to the sweep. Sent ones stay sent.
    """
    claimed = _deliveries_claim(delivery_ids=delivery_ids)
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
                    connection = _connection_take()
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
            _connection_give_back(connection, healthy=healthy)
    return sent


# One statement claims the queued rows named and fresh ones (never tried), own ones first,
# then the newest: readers are waiting for those, an old backlog has its own tasks or the sweep.
# Built without the ORM: most tasks find their rows claimed by another's batch, and then
# this statement is all they cost.
_CLAIM = """
UPDATE subscriptions_delivery
SET status = %s, claimed_at = %s, last_attempt_at = %s, attempts = attempts + 1
WHERE status = %s AND id IN (
    SELECT id FROM subscriptions_delivery
    WHERE status = %s AND (id IN ({own}) OR last_attempt_at IS NULL)
    ORDER BY CASE WHEN id IN ({own}) THEN 0 ELSE 1 END, created_at DESC, id DESC
    LIMIT %s {skip_locked}
)
RETURNING id
"""


def _deliveries_claim(*, delivery_ids: Sequence[int]) -> list[Delivery]:
    """Claim the queued deliveries named and fresh ones (never tried), own ones first.

    An old backlog (tasks lost with a broker) must not delay the email a reader waits
    for now: after its own, a task takes the newest fresh deliveries.

    Rows another worker is claiming are skipped, not waited for. Deliveries that failed
    before are left to their own task's retry (with its backoff) or to the sweep.
    """
    own = [int(pk) for pk in delivery_ids] or [0]
    placeholders = ", ".join(["%s"] * len(own))
    skip_locked = "FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = _CLAIM.format(own=placeholders, skip_locked=skip_locked)
    now = timezone.now()
    queued, sending = str(Delivery.Status.QUEUED), str(Delivery.Status.SENDING)
    params: list[str | int | datetime] = [sending, now, now, queued, queued, *own, *own, SEND_BATCH]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return []
    claimed = Delivery.objects.select_related("subscriber", "mailing_list").filter(pk__in=ids)
    newest_first = sorted(claimed, key=lambda d: (d.created_at, d.pk), reverse=True)
    return sorted(newest_first, key=lambda d: d.pk not in own)


def _subscriptions_of(claimed: list[Delivery]) -> dict[int, list[Subscription]]:
    """Return the subscriptions of the batch's addresses (lists in name order), read once."""
    by_subscriber: dict[int, list[Subscription]] = {d.subscriber_id: [] for d in claimed}
    rows = Subscription.objects.filter(subscriber_id__in=by_subscriber).select_related(
        "mailing_list"
    )
    for subscription in rows.order_by("mailing_list__name", "id"):
        by_subscriber[subscription.subscriber_id].append(subscription)
    return by_subscriber


def _pending_lists(
    delivery: Delivery, subscriptions: dict[int, list[Subscription]]
) -> list[MailingList]:
    """Return the lists a confirmation confirms (and names); none for other emails."""
    if delivery.kind != Delivery.Kind.CONFIRMATION:
        return []
    mine = subscriptions[delivery.subscriber_id]
    return [s.mailing_list for s in mine if s.status == Status.PENDING]


def _delivery_skipped(
    delivery: Delivery,
    *,
    subscriptions: dict[int, list[Subscription]],
    pending: list[MailingList],
) -> bool:
    """Mark the email skipped when it must not go out any more; return whether it was."""
    reason = _delivery_obsolete(delivery, subscriptions=subscriptions, pending=pending)
    if reason:
        _delivery_finish(delivery=delivery, status=Delivery.Status.SKIPPED, error=reason)
    return bool(reason)


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
        _delivery_finish(delivery=delivery, status=Delivery.Status.FAILED, error=str(error))
        return 0
    _delivery_finish(delivery=delivery, status=Delivery.Status.SENT)
    return 1


def _permanent(error: smtplib.SMTPRecipientsRefused) -> bool:
    return all(code >= 500 for code, _ in error.recipients.values())


def _delivery_obsolete(
    delivery: Delivery,
    *,
    subscriptions: dict[int, list[Subscription]],
    pending: list[MailingList],
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
        s.mailing_list_id == delivery.mailing_list_id and s.status == Status.CONFIRMED
        for s in subscriptions[delivery.subscriber_id]
    ):
        return "no longer subscribed"
    return ""


def _delivery_finish(*, delivery: Delivery, status: str, error: str = "") -> None:
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
        status=status,
        sent_at=timezone.now() if status == Delivery.Status.SENT else None,
        last_error=error[:500],
    )


def _deliveries_release(unsent: list[Delivery], *, error: BaseException) -> None:
    """Queue the deliveries not sent again; the one that failed records the error."""
    failed, rest = unsent[0], unsent[1:]
    logger.warning("subscriptions: delivery %s failed, will retry: %r", failed.pk, error)
    sending = Delivery.objects.filter(status=Delivery.Status.SENDING)
    sending.filter(pk=failed.pk).update(
        status=Delivery.Status.QUEUED, claimed_at=None, last_error=repr(error)[:500]
    )
    sending.filter(pk__in=[d.pk for d in rest]).update(
        status=Delivery.Status.QUEUED, claimed_at=None
    )


def deliveries_requeue() -> int:
    """Re-queue mail whose task was lost; give up on mail older than a link lives."""
    now = timezone.now()
    Delivery.objects.filter(
        status=Delivery.Status.SENDING, claimed_at__lt=now - STALE_CLAIM
    ).update(status=Delivery.Status.QUEUED, claimed_at=None)
    give_up = now - timedelta(hours=settings.REEX_CONFIRMATION_MAX_AGE_HOURS)
    Delivery.objects.filter(status=Delivery.Status.QUEUED, created_at__lt=give_up).update(
        status=Delivery.Status.FAILED, last_error="gave up: not sent in time"
    )
    cut = now - ABANDONED_AFTER
    never_enqueued = Q(enqueued_at=None, created_at__lt=now - ENQUEUE_GRACE)
    abandoned = Q(enqueued_at__lt=cut) & (Q(last_attempt_at=None) | Q(last_attempt_at__lt=cut))
    ids = list(
        Delivery.objects.filter(status=Delivery.Status.QUEUED)
        .filter(never_enqueued | abandoned)
        .order_by("created_at")
        .values_list("pk", flat=True)[: REQUEUE_BATCH * 10]
    )
    for start in range(0, len(ids), REQUEUE_BATCH):
        if not deliveries_enqueue(delivery_ids=ids[start : start + REQUEUE_BATCH]):
            break
    return len(ids)


# --- retention ----------------------------------------------------------------------


@transaction.atomic
def pending_purge() -> int:
    """Delete sign-ups left unconfirmed too long, with their personal data; return how many."""
    now = timezone.now()
    cutoff = now - timedelta(days=settings.REEX_PENDING_PURGE_DAYS)
    stale = Subscription.objects.filter(status=Status.PENDING, requested_at__lt=cutoff)
    # An address that was confirmed once keeps its history: it is back to unsubscribed.
    stale.filter(confirmed_at__isnull=False).update(status=Status.UNSUBSCRIBED, unsubscribed_at=now)
    stale.filter(confirmed_at__isnull=True).delete()
    orphans = Subscriber.objects.filter(
        subscriptions__isnull=True, suppression=Suppression.NONE, created_at__lt=cutoff
    )
    deleted, _ = orphans.delete()
    return deleted


# --- import -------------------------------------------------------------------------


@transaction.atomic
def subscription_import(*, email: str, mailing_list: MailingList, consent: Consent) -> bool:
    """Add an address that consented elsewhere (an older list) as confirmed, without mail.

    An address that unsubscribed or is suppressed stays so: an import never overrides an
    opt-out. Return whether the address was added. Raise ValidationError for a bad address.
    """
    subscriber, _ = _subscriber_upsert(email=email_normalise(email))
    if subscriber.is_suppressed:
        return False
    subscription, _ = Subscription.objects.get_or_create(
        subscriber=subscriber, mailing_list=mailing_list
    )
    if subscription.status != Status.PENDING:
        return False
    subscription.status = Status.CONFIRMED
    subscription.confirmed_at = timezone.now()
    subscription.save(update_fields=["status", "confirmed_at"])
    _log(
        subscriber=subscriber,
        action=Action.CONFIRMED,
        requester=Requester(source=Source.IMPORT, user_agent="manage.py subscribers_import"),
        mailing_list=mailing_list,
        consent=consent,
    )
    return True
