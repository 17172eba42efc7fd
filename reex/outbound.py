"""Outbound events: the signed JSON webhook and Slack, owed in an outbox and sent by a task.

Services call ``webhook_event`` inside their transaction; the rows commit with the change
that caused them, and the task is queued after commit (never on the request's path). A
broker outage or a receiver down is retried with backoff, then swept (``webhooks_requeue``).
"""

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from reex import tasks
from reex.enqueue import enqueue, enqueue_on_commit
from reex.models import WebhookDelivery

logger = logging.getLogger(__name__)
Target = WebhookDelivery.Target
USER_AGENT = "reex-webhooks/1"
# A claim older than this belongs to a worker that died while sending.
WEBHOOK_LEASE = timedelta(minutes=2)
# The on_commit enqueue has had this long to reach the broker.
ENQUEUE_GRACE = timedelta(minutes=2)
# The task's retries back off to an hour a try: untried this long means they ran out.
ABANDONED_AFTER = timedelta(hours=6)
# An event this old is not sent any more (kept until the purge, for admin).
GIVE_UP_AFTER = timedelta(days=3)
KEEP_FOR = timedelta(days=7)
_ERROR_LIMIT = 500


class WebhookFailed(Exception):
    """The receiver could not be reached or did not answer 2xx: retry later."""


def webhook_receivers(*, slack: bool) -> list[str]:
    """Return the receivers configured for an event (Slack only if it goes there too);
    callers skip building a payload nobody will get."""
    targets: list[str] = [Target.WEBHOOK] if settings.REEX_WEBHOOK_URL else []
    return targets + ([Target.SLACK] if slack and settings.REEX_SLACK_WEBHOOK_URL else [])


def webhook_event(
    *, event: str, subject: str, data: dict[str, Any], slack: dict[str, Any] | None = None
) -> int:
    """Owe ``event`` about ``subject`` (e.g. ``comment:42``) to the webhook (``data``) and
    to Slack (the ``slack`` message, if any), each receiver that is configured; queue the
    sending after commit. Return the rows made.
    """
    made = 0
    for target in webhook_receivers(slack=slack is not None):
        payload = data if target == Target.WEBHOOK else slack
        delivery = WebhookDelivery.objects.create(
            event=event, subject=subject, target=target, payload=payload
        )
        enqueue_on_commit(tasks.deliver_webhook, delivery.pk)
        made += 1
    return made


def webhook_signature(*, secret: str, body: bytes) -> str:
    """Return ``X-Reex-Signature`` for a body: ``sha256=`` and the hex HMAC-SHA256."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_signature_valid(*, secret: str, body: bytes, header: str) -> bool:
    """Return whether ``header`` signs ``body`` (what a receiver checks, constant time)."""
    return hmac.compare_digest(webhook_signature(secret=secret, body=body), header)


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def webhook_request(delivery: WebhookDelivery, *, now: float) -> tuple[str, bytes, dict[str, str]]:
    """Return the URL, body and headers of one attempt to send ``delivery``.

    The webhook's body names the event, its id and the attempt's time, all under the
    signature, so a receiver can refuse a replayed or stale request.
    """
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if delivery.target == Target.SLACK:
        return settings.REEX_SLACK_WEBHOOK_URL, _json(delivery.payload), headers
    timestamp = int(now)
    envelope = {
        "id": str(delivery.uuid),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "timestamp": timestamp,
        "data": delivery.payload,
    }
    body = _json(envelope)
    headers |= {
        "X-Reex-Event": delivery.event,
        "X-Reex-Delivery": str(delivery.uuid),
        "X-Reex-Timestamp": str(timestamp),
        "X-Reex-Signature": webhook_signature(secret=settings.REEX_WEBHOOK_SECRET, body=body),
    }
    return settings.REEX_WEBHOOK_URL, body, headers


def _claim(delivery_id: int, *, now: datetime) -> WebhookDelivery | None:
    free = Q(claimed_at=None) | Q(claimed_at__lt=now - WEBHOOK_LEASE)
    unsent = WebhookDelivery.objects.filter(free, pk=delivery_id, sent_at=None)
    if unsent.update(claimed_at=now, attempted_at=now, attempts=F("attempts") + 1) != 1:
        return None
    return WebhookDelivery.objects.get(pk=delivery_id)


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        with httpx.Client(timeout=settings.REEX_WEBHOOK_TIMEOUT_SECONDS) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        raise WebhookFailed(f"{type(error).__name__}: {error}") from error
    if not response.is_success:
        raise WebhookFailed(f"HTTP {response.status_code}: {response.text[:200]}")


def webhook_deliver(*, delivery_id: int) -> bool:
    """Send one owed event unless sent or being sent; return whether this call sent it.

    A failure releases the claim, keeps the error and raises WebhookFailed for the task's
    retry. An event whose receiver is no longer configured is closed unsent.
    """
    delivery = _claim(delivery_id, now=timezone.now())
    if delivery is None:
        return False
    url, body, headers = webhook_request(delivery, now=time.time())
    rows = WebhookDelivery.objects.filter(pk=delivery_id)
    if not url:
        rows.update(sent_at=timezone.now(), last_error="Receiver no longer configured.")
        return False
    try:
        _post(url, body, headers)
    except WebhookFailed as error:
        rows.update(claimed_at=None, last_error=str(error)[:_ERROR_LIMIT])
        logger.warning("webhook %s (%s) failed: %s", delivery.event, delivery.target, error)
        raise
    rows.update(sent_at=timezone.now(), last_error="")
    return True


def webhooks_requeue(*, now: datetime | None = None) -> int:
    """Queue again events never attempted (broker down), given up by their retries, or
    claimed by a worker that died; drop sent ones after a week. Return how many."""
    now = now or timezone.now()
    WebhookDelivery.objects.filter(created_at__lt=now - KEEP_FOR).delete()
    never_tried = Q(attempted_at=None, created_at__lt=now - ENQUEUE_GRACE)
    abandoned = Q(claimed_at=None, attempted_at__lt=now - ABANDONED_AFTER)
    lapsed = Q(claimed_at__lt=now - WEBHOOK_LEASE)
    owed = WebhookDelivery.objects.filter(
        never_tried | abandoned | lapsed, sent_at=None, created_at__gte=now - GIVE_UP_AFTER
    )
    ids = list(owed.order_by("created_at", "id").values_list("pk", flat=True)[:500])
    for delivery_id in ids:
        if not enqueue(tasks.deliver_webhook, delivery_id):
            break  # the broker is down: the next sweep tries again
    return len(ids)


def webhook_events_forget(*, subjects: list[str]) -> int:
    """Delete the events about these subjects, sent or not (personal data erasure)."""
    return WebhookDelivery.objects.filter(subject__in=subjects).delete()[0]


def slack_escape(text: str) -> str:
    """Escape the three characters Slack's message text gives meaning to."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
