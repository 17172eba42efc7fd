"""Thin Celery wrappers: fetch by id, call a service."""

import smtplib
from typing import Any

from celery import Task, shared_task
from celery.signals import (
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_shutdown,
)
from celery.utils.time import get_exponential_backoff_interval

from reex import smtp
from reex.ratelimit import RateUnavailable
from subscriptions import (
    edition_pausing,
    edition_sending,
    editions,
    selectors,
    sending,
    services,
    tracking,
)


# A worker process keeps its SMTP connection open from one sending task to the next.
@worker_init.connect
@worker_process_init.connect
def _keep_smtp_connection(**kwargs: Any) -> None:
    smtp.connection_keep(enabled=True)


@worker_process_shutdown.connect
@worker_shutdown.connect
def _close_smtp_connection(**kwargs: Any) -> None:
    smtp.connection_keep(enabled=False)


# Backoff 1, 2, 4 ... capped at 10 minutes (jittered): 24 tries span more than an hour of
# SMTP outage; after that the sweep keeps re-queueing until the mail is too old.
SEND_RETRY_BACKOFF_MAX = 600


@shared_task(bind=True, queue="email", acks_late=True, max_retries=24)
def send_deliveries(self: Task[..., int], delivery_ids: list[int]) -> int:
    """Send the deliveries (and other fresh ones); on an SMTP error retry what was released.

    A batch can stop on another delivery than the task's own: the retry names exactly
    the deliveries put back, whichever task they came from.
    """
    try:
        return sending.deliveries_send_woken(delivery_ids=delivery_ids)
    except sending.DeliveriesReleased as released:
        countdown = get_exponential_backoff_interval(
            factor=1,
            retries=self.request.retries,
            maximum=SEND_RETRY_BACKOFF_MAX,
            full_jitter=True,
        )
        raise self.retry(
            args=(released.delivery_ids,), exc=released.error, countdown=countdown
        ) from released


@shared_task(queue="email", acks_late=True)
def requeue_deliveries() -> int:
    return sending.deliveries_requeue()


@shared_task(queue="bulk", acks_late=True)
def purge_pending() -> int:
    return services.pending_purge()


@shared_task(queue="bulk", acks_late=True)
def record_tracking_event(
    subscriber_id: int | str, kind: str, reference: str = "", detail: str = ""
) -> None:
    if isinstance(subscriber_id, str):  # queued before this release, with the address
        found = selectors.subscriber_id_for_email(email=subscriber_id)
        if found is None:
            return
        subscriber_id = found
    tracking.tracking_event_record(
        subscriber_id=subscriber_id, kind=kind, reference=reference, detail=detail
    )


@shared_task(bind=True, queue="bulk", acks_late=True, max_retries=24)
def send_edition_batch(self: Task[..., int], edition_id: int) -> int:
    """Send one batch of the edition; with the shared rate unreadable, retry later."""
    try:
        return edition_sending.edition_batch_send(edition_id=edition_id)
    except RateUnavailable as error:
        countdown = get_exponential_backoff_interval(
            factor=1, retries=self.request.retries, maximum=SEND_RETRY_BACKOFF_MAX, full_jitter=True
        )
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(queue="bulk", acks_late=True)
def requeue_editions() -> int:
    return edition_sending.editions_requeue()


@shared_task(
    queue="email",
    acks_late=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=SEND_RETRY_BACKOFF_MAX,
    max_retries=20,
)
def notify_edition_paused(edition_id: int) -> int:
    return edition_pausing.edition_paused_notify(edition_id=edition_id)


@shared_task(queue="bulk", acks_late=True)
def editions_due() -> int:
    """Compose and start the editions whose send time has come (beat, every minute)."""
    return len(editions.editions_due())


@shared_task(queue="bulk", acks_late=True)
def start_edition(edition_id: int) -> bool:
    """Start a composed edition; a lost task is made up by ``editions_due``."""
    return editions.edition_start(edition_id=edition_id)
