"""Sign-ups: the request of an address and the confirmation emails it may be sent."""

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from privacy import selectors as privacy_selectors
from privacy.hashing import email_hash
from reex.addresses import email_clean
from subscriptions import selectors, sending, sql, sql_signup
from subscriptions.consent import Consent, Requester
from subscriptions.consent_log import consent_log, consent_values
from subscriptions.models import ConsentEvent, Delivery, MailingList, Subscriber, Subscription

Action = ConsentEvent.Action
Status = Subscription.Status

# No more confirmation emails than this to one address in 24 hours.
CONFIRMATION_DAILY_CAP = 5


def subscriber_upsert(*, email: str) -> tuple[Subscriber, bool]:
    """Return the address's subscriber, locked for this transaction, and whether it is new.

    A new subscriber already carries a confirmation nonce, and the suppression an erased
    address comes back with (privacy keeps it hashed).
    """
    now = timezone.now()
    created = sql.subscriber_insert(email=email, nonce=secrets.token_urlsafe(12), now=now)
    if created is None:
        return selectors.subscribers_by_email(email=email).select_for_update().get(), False
    reason = privacy_selectors.suppression_for_email(email=email)
    if reason:
        created.suppression, created.suppressed_at = reason, now
        created.save(update_fields=["suppression", "suppressed_at", "updated_at"])
    return created, True


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
    email = email_clean(email)
    if sql_signup.supported():
        ids = list(dict.fromkeys(m.pk for m in lists))
        signup = _new_address_request(email=email, consent=consent, requester=requester, ids=ids)
        if signup.subscriber_id is not None:
            return
    _request(email=email, lists=lists, consent=consent, requester=requester)


def subscription_request_by_slugs(
    *, email: str, slugs: Sequence[str], consent: Consent, requester: Requester
) -> bool:
    """Sign up for the public lists named, as ``subscription_request``.

    Return False, having written nothing, when a slug names no public list. A new address
    takes one statement on PostgreSQL, the lists looked up in it.
    """
    email = email_clean(email)
    slugs = list(dict.fromkeys(slugs))
    if sql_signup.supported():
        signup = _new_address_request(
            email=email, consent=consent, requester=requester, slugs=slugs
        )
        if not signup.lists_found:
            return False
        if signup.subscriber_id is not None:
            return True
    lists, unknown = selectors.lists_by_slugs(slugs=slugs)
    if unknown:
        return False
    _request(email=email, lists=lists, consent=consent, requester=requester)
    return True


def _new_address_request(
    *,
    email: str,
    consent: Consent,
    requester: Requester,
    ids: Sequence[int] | None = None,
    slugs: Sequence[str] | None = None,
) -> sql_signup.Signup:
    """Sign a new address up in one statement (PostgreSQL); queue its confirmation."""
    now = timezone.now()
    nonce = secrets.token_urlsafe(12)
    signup = sql_signup.signup_new_address(
        subscriber={"email": email, "confirm_nonce": nonce},
        event=consent_values(action=Action.REQUESTED, requester=requester, consent=consent),
        confirmation=_confirmation_values(nonce=nonce, now=now),
        suppressed_hash=email_hash(email),
        now=now,
        list_ids=ids,
        public_slugs=slugs,
    )
    if signup.confirmation_id is not None:
        sending.deliveries_enqueue_on_commit(delivery_ids=[signup.confirmation_id])
    return signup


@transaction.atomic
def _request(
    *, email: str, lists: Sequence[MailingList], consent: Consent, requester: Requester
) -> None:
    subscriber, created = subscriber_upsert(email=email)
    consent_log(
        subscriber_id=subscriber.pk,
        action=Action.REQUESTED,
        requester=requester,
        list_ids=[m.pk for m in lists],
        consent=consent,
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


def _confirmation_allowed(*, subscriber: Subscriber, ignore_cooldown: bool) -> bool:
    """Return whether one more confirmation email may go to this address now."""
    now = timezone.now()
    recent = Delivery.objects.filter(
        subscriber=subscriber,
        kind=Delivery.Kind.CONFIRMATION,
        created_at__gt=now - timedelta(hours=24),
    )
    if ignore_cooldown:
        return recent.count() < CONFIRMATION_DAILY_CAP
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
    if not _confirmation_allowed(subscriber=subscriber, ignore_cooldown=ignore_cooldown):
        return False
    subscriber.confirm_nonce = secrets.token_urlsafe(12)
    subscriber.save(update_fields=["confirm_nonce", "updated_at"])
    _confirmation_create(subscriber=subscriber, list_id=pending.mailing_list_id)
    return True


def _confirmation_values(*, nonce: str, now: datetime) -> dict[str, object]:
    """A confirmation email's own values (marked queued: it is published on commit)."""
    return {"kind": Delivery.Kind.CONFIRMATION, "nonce": nonce, "enqueued_at": now}


def _confirmation(*, subscriber_id: int, list_id: int, nonce: str, now: datetime) -> Delivery:
    values = _confirmation_values(nonce=nonce, now=now)
    return Delivery(subscriber_id=subscriber_id, mailing_list_id=list_id, **values)


def _confirmation_create(*, subscriber: Subscriber, list_id: int) -> None:
    """Queue the email carrying the subscriber's current confirmation link."""
    delivery = _confirmation(
        subscriber_id=subscriber.pk,
        list_id=list_id,
        nonce=subscriber.confirm_nonce,
        now=timezone.now(),
    )
    delivery.save(force_insert=True)
    sending.deliveries_enqueue_on_commit(delivery_ids=[delivery.pk])


def confirmation_resend(
    *, subscriber_id: int, requester: Requester, ignore_cooldown: bool = False
) -> bool:
    """Send a new confirmation link (expired link page, admin action), throttled as sign-ups."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
        if subscriber is None:
            return False
        return confirmation_send(subscriber=subscriber, ignore_cooldown=ignore_cooldown)
