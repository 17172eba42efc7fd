"""Celery tasks: thin wrappers around privacy.services."""

from celery import shared_task

from privacy import services


@shared_task(queue="bulk")
def anonymise_old_ips() -> int:
    return services.comments_anonymise_old_ips()
