"""Every write of the subscriptions capability: the one place its rules run.

Sign-ups live in ``signups`` (re-exported here), sending in ``sending``, the email
provider's reports in ``tracking``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from reex import outbound
from reex.addresses import email_clean
from subscriptions import selectors, sending, sql_signup, tokens
from subscriptions.consent import Consent, Requester
from subscriptions.consent_log import consent_log, consent_values
from subscriptions.models import (
    ConsentEvent,
    Delivery,
    MailingList,
    Subscriber,
    Subscription,
    Suppression,
)
from subscriptions.signups import (
    confirmation_resend,
    confirmation_send,
    subscriber_upsert,
    subscription_request,
)

Source = ConsentEvent.Source
Action = ConsentEvent.Action
Status = Subscription.Status

__all__ = ["confirmation_resend", "confirmation_send", "consent_log", "subscription_request"]


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
    subscriber_id = content.subscriber_id
    if everything or not sql_signup.supported():
        changed = subscription_unsubscribe(
            subscriber_id=subscriber_id,
            list_ids=None if everything else [content.list_id],
            requester=requester,
        )
        known = bool(changed) or Subscriber.objects.filter(pk=subscriber_id).exists()
    else:
        # A link's one list: the UPDATE, its consent record and the address check at once.
        event = consent_values(action=Action.UNSUBSCRIBED, requester=requester)
        _, known = sql_signup.unsubscribe_one_list(
            subscriber_id=subscriber_id, list_id=content.list_id, event=event, now=timezone.now()
        )
    # Nothing changed and the address is gone: the link is dead.
    if not known:
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
    subscriber, _ = subscriber_upsert(email=email_clean(email))
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
