"""Prometheus metrics and logging."""

import ipaddress
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from reex.conf.core import MIDDLEWARE, VAR_DIR, env

# prometheus-client's multiprocess mode: every process on this machine writes its counters
# here and /metrics adds them up. It must be in the environment before the client loads.
REEX_METRICS_DIR = Path(env.str("REEX_METRICS_DIR", default=str(VAR_DIR / "metrics")))
REEX_METRICS_DIR.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(REEX_METRICS_DIR))
REEX_METRICS_ALLOW = [
    ipaddress.ip_network(network, strict=False)
    for network in env.list("REEX_METRICS_ALLOW", default=["127.0.0.1", "::1"])
]
REEX_METRICS_TOKEN = env.str("REEX_METRICS_TOKEN", default="")
# Off: no request is counted or timed and /metrics answers 404 (what its cost is measured by).
REEX_METRICS = env.bool("REEX_METRICS", default=True)
if not REEX_METRICS:
    MIDDLEWARE.remove("reex.metrics.MetricsMiddleware")
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT is plain or json")
# Workers log through LOGGING too when JSON is asked for (Celery's own format is plain).
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT == "plain"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "reex.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "reex.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},  # its start-up banner, on every command
    },
}
