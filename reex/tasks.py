"""Celery tasks of the shared core: outbound webhooks."""

import random
from typing import Any

from celery import shared_task

# 1 minute, doubling to an hour a try: 12 retries span about seven hours, and the sweep
# takes over after that for up to three days.
WEBHOOK_RETRY_BASE = 60
WEBHOOK_RETRY_MAX = 3600
WEBHOOK_RETRIES = 12


def webhook_retry_countdown(retries: int) -> float:
    """Return the wait before retry number ``retries + 1``: doubling, with 10% jitter."""
    wait = min(WEBHOOK_RETRY_MAX, WEBHOOK_RETRY_BASE * 2**retries)
    return wait * (1 + random.random() / 10)  # noqa: S311 (jitter, not a secret)


@shared_task(bind=True, queue="email", acks_late=True, max_retries=WEBHOOK_RETRIES)
def deliver_webhook(self: Any, delivery_id: int) -> bool:
    from reex import outbound  # outbound imports this module to queue the task

    try:
        return outbound.webhook_deliver(delivery_id=delivery_id)
    except outbound.WebhookFailed as error:
        countdown = webhook_retry_countdown(self.request.retries)
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(queue="email", acks_late=True)
def requeue_webhooks() -> int:
    from reex import outbound

    return outbound.webhooks_requeue()
