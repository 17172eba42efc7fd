"""Celery tasks: thin wrappers that fetch by id and call a service."""

import smtplib

from celery import shared_task

from comments import services


@shared_task(queue="moderation", acks_late=True)
def moderate_comment(comment_id: int) -> None:
    services.comment_moderate(comment_id=comment_id)


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
