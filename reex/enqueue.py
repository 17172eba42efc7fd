"""Putting work on the broker without letting a broker outage fail the caller.

Every task takes ids only (no personal data through the broker). The rows the task works
on are saved first, so when the broker is down a periodic sweep queues the work later.
"""

import logging
from typing import TYPE_CHECKING

from django.db import transaction
from kombu.exceptions import OperationalError as KombuOperationalError

if TYPE_CHECKING:
    from celery import Task

logger = logging.getLogger(__name__)
BrokerDown = (KombuOperationalError, OSError)


def enqueue(task: "Task[..., object]", *args: object) -> bool:
    """Queue ``task`` now; with the broker down, log one line and return False."""
    try:
        task.delay(*args)
    except BrokerDown as error:
        logger.warning("broker unreachable, %s%r left to the sweep: %s", task.name, args, error)
        return False
    return True


def enqueue_on_commit(task: "Task[..., object]", *args: object) -> None:
    """Queue ``task`` once the current transaction commits (see ``enqueue``)."""
    transaction.on_commit(lambda: enqueue(task, *args))
