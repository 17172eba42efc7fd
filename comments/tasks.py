"""Celery tasks: thin wrappers that fetch by id and call a service."""

import logging
import smtplib
from typing import Any

from celery import shared_task
from django.db import DatabaseError

from comments import services
from comments.spam import akismet
from comments.spam.retraining import spam_filter_retrain

logger = logging.getLogger(__name__)


def _retried(
    errors: tuple[type[Exception], ...], *, backoff: int, backoff_max: int, retries: int
) -> dict[str, Any]:
    """Return the options of a task redelivered if its worker dies and retried on ``errors``
    with jittered backoff doubling from ``backoff`` up to ``backoff_max`` seconds."""
    return {
        "acks_late": True,
        "autoretry_for": errors,
        "retry_backoff": backoff,
        "retry_backoff_max": backoff_max,
        "retry_jitter": True,
        "max_retries": retries,
    }


# Akismet down: the claim rolls back and the task retries (at most about 5 minutes in
# all); the last try holds the comment for a human.
@shared_task(
    bind=True,
    queue="moderation",
    **_retried((akismet.AkismetUnavailable,), backoff=10, backoff_max=300, retries=5),
)
def moderate_comment(self: Any, comment_id: int) -> None:
    last_attempt = self.request.retries >= self.max_retries
    services.comment_moderate_woken(comment_id=comment_id, last_attempt=last_attempt)


@shared_task(
    queue="moderation",
    **_retried((akismet.AkismetUnavailable,), backoff=30, backoff_max=3600, retries=10),
)
def akismet_feedback(comment_id: int, kind: akismet.Feedback) -> None:
    services.akismet_feedback_send(comment_id=comment_id, kind=kind)


@shared_task(queue="bulk", acks_late=True)
def retrain_spam_filter(force: bool = False) -> str:
    outcome = spam_filter_retrain(force=force)
    logger.info("spam filter retraining: %s", outcome.reason)
    return outcome.reason


# 30 retries ride out about two hours of SMTP outage; the sweep picks up what outlives them.
@shared_task(
    queue="email",
    **_retried((smtplib.SMTPException, OSError), backoff=5, backoff_max=600, retries=30),
)
def send_notification(notification_id: int) -> None:
    services.notification_send_woken(notification_id=notification_id)


@shared_task(queue="moderation")
def requeue_unchecked_comments() -> int:
    return services.comment_requeue_unchecked()


@shared_task(queue="email")
def requeue_unsent_notifications() -> int:
    return services.notification_requeue_unsent()


@shared_task(queue="moderation")
def requeue_akismet_feedback() -> int:
    return services.akismet_feedback_requeue()


@shared_task(queue="bulk")
def purge_spam_comments() -> int:
    return services.comment_purge_spam()


# A redelivery polls again: items are keyed, so it only updates what the first one saved.
# A database outage retries; an unreachable feed is already left for the next poll.
@shared_task(
    queue="bulk",
    **_retried((DatabaseError,), backoff=30, backoff_max=300, retries=3),
)
def poll_feeds() -> dict[str, int]:
    report = services.feeds_poll()
    return {
        "feeds": len(report.feeds),
        "created": sum(len(feed.created) for feed in report.feeds),
        "updated": sum(len(feed.updated) for feed in report.feeds),
        "errors": report.error_count,
    }


# The dashboard reads only the summary; a refresh not run by its next turn is dropped.
@shared_task(queue="bulk", acks_late=True)
def refresh_moderation_summary() -> int:
    return len(services.moderation_summary_refresh())
