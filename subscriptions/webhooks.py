"""Bounces and complaints from the email provider (Postmark) through django-anymail.

anymail validates the request (HTTP basic auth with ANYMAIL_WEBHOOK_SECRET) and sends its
``tracking`` signal; the receiver here classifies the event and enqueues a task by
subscriber id (no address through the broker).
"""

from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from reex.enqueue import enqueue
from subscriptions import selectors, tasks
from subscriptions.tracking import TrackingKind, tracking_event_record

_postmark_view = PostmarkTrackingWebhookView.as_view()
# Postmark reports these as bounces, but the mailbox exists: count them towards the limit.
_SOFT_TYPES = {"SoftBounce", "Transient", "DnsError", "AutoResponder"}
_HARD_REJECTS = {RejectReason.INVALID, RejectReason.BOUNCED}


@csrf_exempt
def postmark_tracking(request: HttpRequest) -> HttpResponse:
    """Postmark's bounce, spam complaint and delivery webhook; absent until a secret is set."""
    if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        raise Http404("Set ANYMAIL_WEBHOOK_SECRET to enable the webhook.")
    return _postmark_view(request)


def tracking_kind(event: AnymailTrackingEvent) -> str | None:
    """Return what the event means for the address, or None when it changes nothing."""
    esp_type = event.esp_event.get("Type") if isinstance(event.esp_event, dict) else None
    if event.event_type == EventType.COMPLAINED:
        return TrackingKind.COMPLAINT
    if event.event_type == EventType.BOUNCED:
        return TrackingKind.SOFT_BOUNCE if esp_type in _SOFT_TYPES else TrackingKind.HARD_BOUNCE
    if event.event_type == EventType.REJECTED and event.reject_reason in _HARD_REJECTS:
        return TrackingKind.HARD_BOUNCE
    if event.event_type == EventType.DELIVERED:
        return TrackingKind.DELIVERED
    if event.event_type == EventType.UNSUBSCRIBED:
        return TrackingKind.UNSUBSCRIBED
    return None


def tracking_received(
    sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    """anymail's ``tracking`` signal receiver: enqueue, do nothing slow in the request.

    With the broker down the event is recorded here instead (one quick write): the
    answer is a success, so the provider will not send the event again.
    """
    kind = tracking_kind(event)
    if kind is None or not event.recipient:
        return
    subscriber_id = selectors.subscriber_id_for_email(email=event.recipient)
    if subscriber_id is None:
        return
    reference = f"{esp_name}:{event.event_id}" if event.event_id else ""
    detail = (event.description or "")[:500]
    if not enqueue(tasks.record_tracking_event, subscriber_id, kind, reference, detail):
        tracking_event_record(
            subscriber_id=subscriber_id, kind=kind, reference=reference, detail=detail
        )
