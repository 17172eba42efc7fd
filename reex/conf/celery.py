"""Celery: the broker (REDIS_URL's Redis, else kombu's filesystem transport) and its queues.

What beat sends and how often is in ``reex/conf/beat.py``.
"""

from kombu import Exchange, Queue

from reex.conf.cache import REDIS_URL
from reex.conf.core import VAR_DIR, env

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _QUEUE_DIR = VAR_DIR / "celery" / "queue"
    _QUEUE_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_QUEUE_DIR),
        "data_folder_out": str(_QUEUE_DIR),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
else:
    # Unacknowledged (acks_late) tasks come back after this long if a worker dies.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("REEX_BROKER_VISIBILITY_TIMEOUT", default=3600)
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A worker started without -Q consumes every queue listed here.
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name, type="direct"), routing_key=name)
    for name in ("moderation", "email", "bulk")
]
CELERY_TASK_DEFAULT_QUEUE = "bulk"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
# Celery's Django fixup closes the database connection around every task unless told to
# reuse it; reex.celery instead closes it the way Django closes a request's (CONN_MAX_AGE,
# CONN_HEALTH_CHECKS). A new PostgreSQL connection per task cost more than the task.
CELERY_DB_REUSE_MAX = 1_000_000
