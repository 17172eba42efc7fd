"""Every write of the subscriptions capability: the one place its rules run.

Sending lives in ``sending``, the email provider's reports in ``tracking``.
"""

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from privacy import selectors as privacy_selectors
from reex import outbound
from reex.addresses import email_clean
from subscriptions import selectors, sending, sql, tokens
from subscriptions.consent import Consent, Requester
from subscriptions.models import (
    ConsentEvent,
    Delivery,
    MailingList,
    Subscriber,
    Subscription,
    Suppression,
)

Source = ConsentEvent.Source
Action = ConsentEvent.Action
Status = Subscription.Status

# No more confirmation emails than this to one address in 24 hours.
CONFIRMATION_DAILY_CAP = 5


def consent_log(
    *,
    subscriber_id: int,
    action: str,
    requester: Requester,
    list_ids: Iterable[int | None] = (None,),
    consent: Consent | None = None,
    reference: str = "",
    detail: str = "",
) -> None:
    """Append one consent log entry per list (None: about the whole address), in one INSERT."""
    ConsentEvent.objects.bulk_create(
        ConsentEvent(
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
        for list_id in list_ids
    )


def _subscriber_upsert(*, email: str) -> tuple[Subscriber, bool]:
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
    subscriber, created = _subscriber_upsert(email=email_clean(email))
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


def _confirmation_create(*, subscriber: Subscriber, list_id: int) -> None:
    """Queue the email carrying the subscriber's current confirmation link."""
    delivery = Delivery.objects.create(
        subscriber=subscriber,
        mailing_list_id=list_id,
        kind=Delivery.Kind.CONFIRMATION,
        nonce=subscriber.confirm_nonce,
        enqueued_at=timezone.now(),
    )
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
        consent_log(
            subscriber_id=subscriber.pk,
            action=Action.CONFIRMED,
            requester=requester,
            list_ids=[subscription.mailing_list_id],
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
        sending.deliveries_enqueue_on_commit(delivery_ids=welcome_ids)
        _confirmed_event(subscriber=subscriber, confirmed=pending, now=now)
    return subscriber


def _confirmed_event(
    *, subscriber: Subscriber, confirmed: Sequence[Subscription], now: datetime
) -> None:
    """Tell the webhook (if any) an address confirmed: it is the event's whole point."""
    if not outbound.webhook_receivers(slack=False):
        return
    data = {
        "subscriber": {"id": subscriber.pk, "email": subscriber.email},
        "lists": [s.mailing_list.slug for s in confirmed],
        "confirmed_at": now.isoformat(),
    }
    subject = f"subscriber:{subscriber.pk}"
    outbound.webhook_event(event="subscription.confirmed", subject=subject, data=data)


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
    consent_log(
        subscriber_id=subscriber_id,
        action=Action.UNSUBSCRIBED,
        requester=requester,
        list_ids=changed,
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
    consent_log(
        subscriber_id=subscriber.pk,
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
    subscriber, _ = _subscriber_upsert(email=email_clean(email))
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
    consent_log(
        subscriber_id=subscriber.pk,
        action=Action.CONFIRMED,
        requester=Requester(source=Source.IMPORT, user_agent="manage.py subscribers_import"),
        list_ids=[mailing_list.pk],
        consent=consent,
    )
    return True


# --- erasure (privacy calls it) -----------------------------------------------------


@dataclass(frozen=True)
class SubscriberErased:
    """What an erasure removed, and what privacy keeps: the consent proof, the suppression."""

    subscriptions: int
    deliveries: int
    consent_events: list[ConsentEvent]
    suppression: str
    suppressed_at: datetime | None


@transaction.atomic
def subscriber_erase(*, email: str) -> SubscriberErased | None:
    """Delete the address with its subscriptions, emails and consent log; None if unknown.

    Only for privacy's erasure, which keeps the returned consent and suppression hashed:
    a suppression dropped here would let a bounced address be mailed again.
    """
    subscriber = selectors.subscribers_by_email(email=email).select_for_update().first()
    if subscriber is None:
        return None
    erased = SubscriberErased(
        subscriptions=subscriber.subscriptions.count(),
        deliveries=subscriber.deliveries.count(),
        consent_events=list(subscriber.consent_events.order_by("id")),
        suppression=subscriber.suppression,
        suppressed_at=subscriber.suppressed_at,
    )
    # Subscriptions, deliveries and the consent log go with it (CASCADE).
    subscriber.delete()
    return erased
