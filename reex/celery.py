import os

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

import reex.logs  # noqa: F401  (its signal handlers carry request ids into tasks)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reex.settings")

app = Celery("reex")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# As around a web request: drop a connection that is broken or older than CONN_MAX_AGE,
# keep the rest (settings.CELERY_DB_REUSE_MAX stops Celery closing it after every task).
# Not around a task run eagerly (tests): that shares its caller's connection and transaction.
def _close_old_connections(task: Task, **kwargs: object) -> None:
    if not task.request.is_eager:
        close_old_connections()


task_prerun.connect(_close_old_connections, weak=False)
task_postrun.connect(_close_old_connections, weak=False)
