"""Celery tasks: thin wrappers that fetch by id and call a service."""

import logging
import smtplib
from typing import Any

from celery import shared_task

from comments import services
from comments.spam import akismet
from comments.spam.retraining import spam_filter_retrain

logger = logging.getLogger(__name__)


# Akismet down: the claim rolls back and the task retries with backoff (10 s doubling,
# at most about 5 minutes in all); the last try holds the comment for a human.
@shared_task(
    bind=True,
    queue="moderation",
    acks_late=True,
    autoretry_for=(akismet.AkismetUnavailable,),
    retry_backoff=10,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def moderate_comment(self: Any, comment_id: int) -> None:
    last_attempt = self.request.retries >= self.max_retries
    services.comment_moderate(comment_id=comment_id, last_attempt=last_attempt)


@shared_task(
    queue="moderation",
    acks_late=True,
    autoretry_for=(akismet.AkismetUnavailable,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=10,
)
def akismet_feedback(comment_id: int, kind: akismet.Feedback) -> None:
    akismet.akismet_submit(comment_id=comment_id, kind=kind)


@shared_task(queue="bulk", acks_late=True)
def retrain_spam_filter(force: bool = False) -> str:
    outcome = spam_filter_retrain(force=force)
    logger.info("spam filter retraining: %s", outcome.reason)
    return outcome.reason


# Backoff doubles up to 10 minutes; with jitter, 30 retries ride out about two hours
# of SMTP outage, and the sweep picks up whatever outlives them.
@shared_task(
    queue="email",
    acks_late=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=30,
)
def send_notification(notification_id: int) -> None:
    services.notification_send(notification_id=notification_id)


@shared_task(queue="moderation")
def requeue_unchecked_comments() -> int:
    return services.comment_requeue_unchecked()


@shared_task(queue="email")
def requeue_unsent_notifications() -> int:
    return services.notification_requeue_unsent()


@shared_task(queue="bulk")
def purge_spam_comments() -> int:
    return services.comment_purge_spam()
