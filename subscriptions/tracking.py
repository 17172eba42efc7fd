"""What the email provider reports about an address: bounces, complaints, deliveries."""

from django.conf import settings
from django.db import transaction
from django.db.models import F

from subscriptions import services
from subscriptions.consent import Requester
from subscriptions.models import ConsentEvent, Subscriber, Suppression


class TrackingKind:
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    COMPLAINT = "complaint"
    DELIVERED = "delivered"
    UNSUBSCRIBED = "unsubscribed"


_SUPPRESSING = {
    TrackingKind.HARD_BOUNCE: Suppression.BOUNCED,
    TrackingKind.COMPLAINT: Suppression.COMPLAINED,
}


@transaction.atomic
def tracking_event_record(
    *, subscriber_id: int, kind: str, reference: str = "", detail: str = ""
) -> None:
    """Apply one provider event; a redelivered event (same reference) changes nothing."""
    subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
    if subscriber is None:
        return
    if reference and ConsentEvent.objects.filter(reference=reference[:200]).exists():
        return
    requester = Requester(source=ConsentEvent.Source.WEBHOOK)
    if kind == TrackingKind.DELIVERED:
        Subscriber.objects.filter(pk=subscriber.pk).update(soft_bounces=0)
    elif kind in _SUPPRESSING:
        services.subscriber_suppress(
            subscriber_id=subscriber.pk,
            reason=_SUPPRESSING[kind],
            requester=requester,
            reference=reference,
            detail=detail,
        )
    elif kind == TrackingKind.SOFT_BOUNCE:
        _soft_bounce(subscriber=subscriber, requester=requester, reference=reference, detail=detail)
    elif kind == TrackingKind.UNSUBSCRIBED:
        services.subscription_unsubscribe(
            subscriber_id=subscriber.pk, list_ids=None, requester=requester
        )


def _soft_bounce(
    *, subscriber: Subscriber, requester: Requester, reference: str, detail: str
) -> None:
    services.consent_log(
        subscriber_id=subscriber.pk,
        action=ConsentEvent.Action.SOFT_BOUNCED,
        requester=requester,
        reference=reference,
        detail=detail,
    )
    Subscriber.objects.filter(pk=subscriber.pk).update(soft_bounces=F("soft_bounces") + 1)
    subscriber.refresh_from_db(fields=["soft_bounces"])
    limit = settings.REEX_SOFT_BOUNCE_LIMIT
    if limit and subscriber.soft_bounces >= limit:
        services.subscriber_suppress(
            subscriber_id=subscriber.pk,
            reason=Suppression.BOUNCED,
            requester=requester,
            detail=f"{subscriber.soft_bounces} soft bounces in a row",
        )
