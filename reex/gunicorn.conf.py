"""gunicorn as reex runs in production: ``gunicorn -c reex/gunicorn.conf.py reex.wsgi``.

Every value can be overridden on the command line (``--bind``, ``--workers``) or with
``GUNICORN_CMD_ARGS``. Measured choices are in docs/production.md.
"""

import multiprocessing
import os

bind = os.environ.get("REEX_BIND", "127.0.0.1:8000")
# Sync workers: the request path never waits on anything slow (mail, scoring and
# sanitising happen in Celery), so a process per core keeps the cores busy.
workers = int(os.environ.get("REEX_WEB_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
# Load Django once in the master and fork: workers start at once and share memory.
# Nothing opens a database or Redis connection at import, so none is shared by forks.
preload_app = True
# A request is a few milliseconds; one stuck for 30 s is killed and its worker replaced.
timeout = 30
graceful_timeout = 10
keepalive = 5
# Recycle workers now and then, so that a slow leak can never grow without bound.
max_requests = 20_000
max_requests_jitter = 2_000
errorlog = "-"
