"""Settings for reex, all read from the environment here and nowhere else.

Every variable has an embedded default so that a fresh clone runs with nothing but
Python: SQLite under ``var/``, Celery on kombu's filesystem transport, a file-based
cache and mail written to files. Production switches each default off by variable.
"""

import ipaddress
import os
from datetime import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from corsheaders.defaults import default_headers as corsheaders_default_headers
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
VAR_DIR = Path(env.str("REEX_VAR_DIR", default=str(BASE_DIR / "var")))

_DEV_SECRET_KEY = "django-insecure-reex-development-only"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY, or DEBUG=1 for the development default.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
REEX_BASE_URL = env.str("REEX_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
REEX_HTTPS = env.bool("REEX_HTTPS", default=not DEBUG)
# Only these proxies may tell the client's address through X-Forwarded-For.
REEX_TRUSTED_PROXIES = env.list("REEX_TRUSTED_PROXIES", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    "axes",
    "corsheaders",
    "csp",
    "reex",
    "comments",
    "subscriptions",
    "privacy",
]

MIDDLEWARE = [
    # First: every answer is counted and timed, and carries its request id into the logs.
    "reex.logs.RequestIdMiddleware",
    "reex.metrics.MetricsMiddleware",  # removed below with REEX_METRICS=0
    "django.middleware.security.SecurityMiddleware",
    # Refuse oversized bodies from Content-Length before anything reads them (413), and
    # answer JSON, not HTML, for errors under /api/.
    "reex.middleware.RequestBodyLimitMiddleware",
    "reex.middleware.ApiJsonErrorsMiddleware",
    # A database outage in a view answers 503 (JSON on /api/), not a 500 with a traceback.
    "reex.errors.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "reex.urls"
WSGI_APPLICATION = "reex.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "reex" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'reex.sqlite3'}"),
}
# Connections per process are bounded by psycopg's pool, whatever the server: a threaded
# server (runserver) that kept one connection per request thread ran PostgreSQL out of its
# 100 connections at 30 requests/s. REEX_DB_POOL_SIZE=0 keeps one per thread instead.
DB_POOL_SIZE = env.int("REEX_DB_POOL_SIZE", default=4)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_POOL_SIZE:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # a request gives its connection back
    # A connection that died while pooled (PostgreSQL restarted) is replaced before it is
    # handed out, instead of failing one request with 503 (Django passes the pool a check).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": 1,
            "max_size": DB_POOL_SIZE,
            "timeout": env.float("REEX_DB_POOL_TIMEOUT", default=10.0),
            "max_idle": 300,
        }
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("REEX_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let web, worker and beat share one SQLite file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker, cache, throttles ----------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Fails open: Redis down reads as a miss, so throttles don't 500 every request.
            "BACKEND": "reex.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "reex",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # A file cache is shared by every process on this machine (web, worker, beat).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery -----------------------------------------------------------------------

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
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
CELERY_TIMEZONE = "UTC"
# Celery's Django fixup closes the database connection around every task unless told to
# reuse it; reex.celery instead closes it the way Django closes a request's (CONN_MAX_AGE,
# CONN_HEALTH_CHECKS). A new PostgreSQL connection per task cost more than the task.
CELERY_DB_REUSE_MAX = 1_000_000

# --- Email ------------------------------------------------------------------------


def _email_settings(url: str) -> dict[str, object]:
    """Return Django email settings for ``smtp://user:pass@host:port?tls`` (or ``?ssl``)."""
    if not url:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(VAR_DIR / "mail"),
        }
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ImproperlyConfigured(f"EMAIL_URL must start with smtp:// (got {parts.scheme}://)")
    options = parse_qs(parts.query, keep_blank_values=True)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or 25,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": "tls" in options,
        "EMAIL_USE_SSL": "ssl" in options or parts.scheme == "smtps",
        "EMAIL_TIMEOUT": 10,
    }


EMAIL_URL = env.str("EMAIL_URL", default="")
_email = _email_settings(EMAIL_URL)
EMAIL_BACKEND = str(_email["EMAIL_BACKEND"])
EMAIL_FILE_PATH = str(_email.get("EMAIL_FILE_PATH", VAR_DIR / "mail"))
EMAIL_HOST = str(_email.get("EMAIL_HOST", "localhost"))
EMAIL_PORT = int(str(_email.get("EMAIL_PORT", 25)))
EMAIL_HOST_USER = str(_email.get("EMAIL_HOST_USER", ""))
EMAIL_HOST_PASSWORD = str(_email.get("EMAIL_HOST_PASSWORD", ""))
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL", False))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="reex <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL = {"WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="")}

# --- HTTPS and security headers ---------------------------------------------------

SECURE_SSL_REDIRECT = REEX_HTTPS
SESSION_COOKIE_SECURE = REEX_HTTPS
CSRF_COOKIE_SECURE = REEX_HTTPS
SECURE_HSTS_SECONDS = env.int("REEX_HSTS_SECONDS", default=31536000) if REEX_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = REEX_HTTPS
SECURE_HSTS_PRELOAD = env.bool("REEX_HSTS_PRELOAD", default=REEX_HTTPS)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if REEX_TRUSTED_PROXIES else None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Reader pages and admin load scripts, styles and images from this site only; no inline
# script runs, nothing frames the site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Cross-origin API calls only from these origins (the news site's own pages).
CORS_ALLOWED_ORIGINS = env.list("REEX_CORS_ORIGINS", default=[])
# The embed (docs/embed.md) calls the API and reads /embed/ fragments from those pages; it
# must read Retry-After to show a reader how long to wait. It sends no cookies.
CORS_URLS_REGEX = r"^/(api|embed)/.*$"
CORS_EXPOSE_HEADERS = ["Retry-After"]
# Site URL prefixes under which a first comment may create an unknown article.
REEX_SITE_URLS = env.list("REEX_SITE_URLS", default=[])
# /embed.js and /embed.css are served at the site's root, with CORS (WhiteNoise's default).
WHITENOISE_ROOT = BASE_DIR / "reex" / "public"
CSRF_TRUSTED_ORIGINS = [REEX_BASE_URL]
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
SILENCED_SYSTEM_CHECKS = [] if REEX_HTTPS else ["security.W004", "security.W008"]

# --- Auth, i18n, static -----------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Admin logins: after this many failures for one username from one address, wait an hour.
AXES_FAILURE_LIMIT = env.int("REEX_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "reex.net.client_ip"
AXES_RESET_ON_SUCCESS = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Without collectstatic (make run, tests) WhiteNoise serves files from the apps directly.
WHITENOISE_USE_FINDERS = True

# --- Metrics and logs ---------------------------------------------------------------

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

# --- REST API ---------------------------------------------------------------------


def _rate(value: str) -> str | None:
    """Return a DRF rate string, or None (no limit) for ``0``."""
    return None if value.strip() in ("", "0") else value.strip()


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "reex.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "comment": _rate(env.str("REEX_COMMENT_RATE", default="10/min")),
        "subscribe": _rate(env.str("REEX_SUBSCRIBE_RATE", default="5/min")),
        "flag": _rate(env.str("REEX_FLAG_RATE", default="10/hour")),
    },
    "NUM_PROXIES": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "reex API",
    "DESCRIPTION": "Comments, moderation and newsletter subscriptions for a news site.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- comments ---------------------------------------------------------------------

REEX_COMMENT_FLOOD_SECONDS = env.int("REEX_COMMENT_FLOOD_SECONDS", default=15)
REEX_MODERATION_MODE = env.str("REEX_MODERATION_MODE", default="auto")
if REEX_MODERATION_MODE not in ("auto", "first", "all"):
    raise ImproperlyConfigured("REEX_MODERATION_MODE must be auto, first or all.")
REEX_MAX_LINKS = env.int("REEX_MAX_LINKS", default=2)
REEX_CLOSE_COMMENTS_AFTER_DAYS = env.int("REEX_CLOSE_COMMENTS_AFTER_DAYS", default=0)
REEX_MAX_REPLY_DEPTH = env.int("REEX_MAX_REPLY_DEPTH", default=5)
# Moderation signals: reports from this many readers hide a comment until a moderator
# decides; held-comment emails' action links expire after these hours.
REEX_FLAGS_TO_HOLD = max(1, env.int("REEX_FLAGS_TO_HOLD", default=3))
REEX_MODERATION_LINK_HOURS = env.int("REEX_MODERATION_LINK_HOURS", default=72)
# Imported pingbacks and trackbacks stay hidden from readers unless this is on.
REEX_SHOW_PINGBACKS = env.bool("REEX_SHOW_PINGBACKS", default=False)
# A moderation task decides up to this many unchecked comments in one transaction (its
# own first): more amortises better, fewer decides the task's own comment sooner.
REEX_MODERATION_BATCH = max(1, env.int("REEX_MODERATION_BATCH", default=20))
# A request wakes the workers at most once per this many seconds (0: a task per comment);
# the woken task takes every comment saved meanwhile (reex/wakeup.py).
REEX_WAKE_SECONDS = max(0.0, env.float("REEX_WAKE_SECONDS", default=0.1))
REEX_SPAM_RETENTION_DAYS = env.int("REEX_SPAM_RETENTION_DAYS", default=15)
# A form filled faster than this, or older than the max age, is refused.
REEX_FORM_MIN_SECONDS = env.int("REEX_FORM_MIN_SECONDS", default=3)
REEX_FORM_MAX_AGE_SECONDS = env.int("REEX_FORM_MAX_AGE_SECONDS", default=7200)
# Comments left unmoderated (broker down) are queued again; notifications likewise.
CELERY_BEAT_SCHEDULE["comments-requeue-unchecked"] = {
    "task": "comments.tasks.requeue_unchecked_comments",
    "schedule": 60.0,
    # A sweep not run by its next turn is dropped, so they don't pile up while workers are down.
    "options": {"expires": 60.0},
}
CELERY_BEAT_SCHEDULE["comments-requeue-unsent-notifications"] = {
    "task": "comments.tasks.requeue_unsent_notifications",
    "schedule": 300.0,
    # A sweep not run by its next turn is dropped, so they don't pile up while workers are down.
    "options": {"expires": 300.0},
}
CELERY_BEAT_SCHEDULE["comments-purge-spam"] = {
    "task": "comments.tasks.purge_spam_comments",
    "schedule": 3600.0,
    # A sweep not run by its next turn is dropped, so they don't pile up while workers are down.
    "options": {"expires": 3600.0},
}
# Spam classifier: a score at or above the first is spam, at or above the second held.
# Defaults from leave-one-file-out evaluation (docs/spam-filter.md).
REEX_SPAM_THRESHOLD = env.float("REEX_SPAM_THRESHOLD", default=0.97)
REEX_HOLD_THRESHOLD = env.float("REEX_HOLD_THRESHOLD", default=0.2)
if not 0 <= REEX_HOLD_THRESHOLD <= REEX_SPAM_THRESHOLD <= 1:
    raise ImproperlyConfigured("Need 0 <= REEX_HOLD_THRESHOLD <= REEX_SPAM_THRESHOLD <= 1.")
# Retrain once this many moderator decisions accumulated since the current version.
REEX_SPAM_RETRAIN_AFTER = env.int("REEX_SPAM_RETRAIN_AFTER", default=50)
# How long a worker trusts its loaded model before asking which version is current.
REEX_SPAM_MODEL_CHECK_SECONDS = env.float("REEX_SPAM_MODEL_CHECK_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE["comments-spam-retrain"] = {
    "task": "comments.tasks.retrain_spam_filter",
    "schedule": 3600.0,
    "options": {"queue": "bulk", "expires": 3600.0},
}
# The moderators' dashboard reads a daily summary, refreshed this often.
CELERY_BEAT_SCHEDULE["comments-moderation-summary"] = {
    "task": "comments.tasks.refresh_moderation_summary",
    "schedule": 300.0,
    "options": {"queue": "bulk", "expires": 300.0},
}
# Akismet is asked only when both are set. The API URL is for tests and proxies.
AKISMET_API_KEY = env.str("AKISMET_API_KEY", default="")
AKISMET_SITE_URL = env.str("AKISMET_SITE_URL", default="")
AKISMET_API_URL = env.str("AKISMET_API_URL", default="https://rest.akismet.com")
AKISMET_TIMEOUT_SECONDS = env.float("AKISMET_TIMEOUT_SECONDS", default=5.0)

# --- feeds: the site's RSS or Atom feeds, polled into articles ---------------------

REEX_FEED_URLS = [url.strip() for url in env.list("REEX_FEED_URLS", default=[]) if url.strip()]
if any(urlsplit(url).scheme not in ("http", "https") for url in REEX_FEED_URLS):
    raise ImproperlyConfigured("REEX_FEED_URLS must be http:// or https:// addresses.")
REEX_FEED_POLL_MINUTES = max(1, env.int("REEX_FEED_POLL_MINUTES", default=10))
# A fetch slower than this (in all) or larger than this is abandoned until the next poll.
REEX_FEED_TIMEOUT_SECONDS = env.float("REEX_FEED_TIMEOUT_SECONDS", default=15.0)
REEX_FEED_MAX_BYTES = env.int("REEX_FEED_MAX_BYTES", default=10 * 1024 * 1024)
if REEX_FEED_URLS:
    CELERY_BEAT_SCHEDULE["comments-poll-feeds"] = {
        "task": "comments.tasks.poll_feeds",
        "schedule": REEX_FEED_POLL_MINUTES * 60.0,
        "options": {"queue": "bulk", "expires": REEX_FEED_POLL_MINUTES * 60.0},
    }

# --- subscriptions ----------------------------------------------------------------

REEX_CONFIRMATION_COOLDOWN_SECONDS = env.int("REEX_CONFIRMATION_COOLDOWN_SECONDS", default=600)
REEX_CONFIRMATION_MAX_AGE_HOURS = env.int("REEX_CONFIRMATION_MAX_AGE_HOURS", default=72)
REEX_SOFT_BOUNCE_LIMIT = env.int("REEX_SOFT_BOUNCE_LIMIT", default=3)
REEX_PENDING_PURGE_DAYS = env.int("REEX_PENDING_PURGE_DAYS", default=7)
# How often beat re-queues mail whose task was lost (broker down, retries exhausted).
REEX_SUBSCRIPTIONS_SWEEP_SECONDS = env.int("REEX_SUBSCRIPTIONS_SWEEP_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["subscriptions-requeue"] = {
    "task": "subscriptions.tasks.requeue_deliveries",
    "schedule": float(REEX_SUBSCRIPTIONS_SWEEP_SECONDS),
    "options": {"queue": "email", "expires": float(REEX_SUBSCRIPTIONS_SWEEP_SECONDS)},
}
CELERY_BEAT_SCHEDULE["subscriptions-purge-pending"] = {
    "task": "subscriptions.tasks.purge_pending",
    "schedule": 3600.0,
    "options": {"queue": "bulk", "expires": 3600.0},
}

# --- newsletter editions (docs/newsletter.md) ---------------------------------------


def _clock_time(value: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise ImproperlyConfigured("REEX_NEWSLETTER_TIME must be HH:MM, e.g. 07:00.") from None


# A new list's send time, in its own time zone (TIME_ZONE unless set per list).
REEX_NEWSLETTER_TIME = _clock_time(env.str("REEX_NEWSLETTER_TIME", default="07:00"))
# A new list's time zone (an IANA name); each list can have its own.
REEX_NEWSLETTER_TIME_ZONE = env.str("REEX_NEWSLETTER_TIME_ZONE", default=TIME_ZONE)
try:
    ZoneInfo(REEX_NEWSLETTER_TIME_ZONE)
except (ValueError, ZoneInfoNotFoundError):
    raise ImproperlyConfigured(
        "REEX_NEWSLETTER_TIME_ZONE must be a zone like Europe/Paris."
    ) from None
# An edition not started this long after its time is marked missed, never sent late.
REEX_NEWSLETTER_MAX_DELAY_HOURS = env.float("REEX_NEWSLETTER_MAX_DELAY_HOURS", default=3.0)
# Added to List-Unsubscribe next to the one-click URL when set, e.g. unsubscribe@example.org.
REEX_NEWSLETTER_UNSUBSCRIBE_MAILTO = env.str("REEX_NEWSLETTER_UNSUBSCRIBE_MAILTO", default="")
CELERY_BEAT_SCHEDULE["subscriptions-editions-due"] = {
    "task": "subscriptions.tasks.editions_due",
    "schedule": 60.0,
    "options": {"queue": "bulk", "expires": 60.0},
}

# --- newsletter sending (docs/newsletter.md) ----------------------------------------

# Messages per second for the whole site, all workers together (kept in Redis); 0: no limit.
REEX_SEND_RATE = env.float("REEX_SEND_RATE", default=0.0)
# SMTP failures in a row, any worker, after which an edition pauses and staff are told.
REEX_SEND_MAX_ERRORS = max(1, env.int("REEX_SEND_MAX_ERRORS", default=10))
# Deliveries one task claims and sends over one connection (one provider API call).
REEX_SEND_BATCH = max(1, env.int("REEX_SEND_BATCH", default=500))
# A claim not renewed for this long belongs to a dead worker: its deliveries go back.
REEX_SEND_LEASE_SECONDS = max(5, env.int("REEX_SEND_LEASE_SECONDS", default=300))
# Send through a provider's API (django-anymail) instead of EMAIL_URL's SMTP server, e.g.
# EMAIL_PROVIDER=sendgrid with EMAIL_PROVIDER_KEY=<API key> (mailjet: "key:secret").
EMAIL_PROVIDER = env.str("EMAIL_PROVIDER", default="").strip().lower()
_PROVIDER_KEYS = {"postmark": ["SERVER_TOKEN"], "mailjet": ["API_KEY", "SECRET_KEY"]}
if EMAIL_PROVIDER:
    if EMAIL_PROVIDER not in ("amazon_ses", "brevo", "mailgun", "mailjet", "mandrill",
                              "postmark", "resend", "sendgrid", "sparkpost"):  # fmt: skip
        raise ImproperlyConfigured(f"EMAIL_PROVIDER {EMAIL_PROVIDER!r} is not supported.")
    EMAIL_BACKEND = f"anymail.backends.{EMAIL_PROVIDER}.EmailBackend"
    _names = _PROVIDER_KEYS.get(EMAIL_PROVIDER, ["API_KEY"])
    _secrets = env.str("EMAIL_PROVIDER_KEY", default="").split(":", len(_names) - 1)
    for _name, _secret in zip(_names, _secrets, strict=False):
        ANYMAIL[f"{EMAIL_PROVIDER.upper()}_{_name}"] = _secret

CELERY_BEAT_SCHEDULE["newsletter-requeue-editions"] = {
    "task": "subscriptions.tasks.requeue_editions",
    "schedule": 60.0,
    "options": {"queue": "bulk", "expires": 60.0},
}

# --- privacy ----------------------------------------------------------------------

# Comments' IP addresses, user agents and referrers are cleared this many days after
# posting; 0 keeps them. The consent log keeps its own: they are the proof of consent.
REEX_IP_RETENTION_DAYS = env.int("REEX_IP_RETENTION_DAYS", default=30)
# Keys the hash that replaces an erased address; set it so a SECRET_KEY rotation does not
# forget which erased addresses bounced.
REEX_PRIVACY_HASH_KEY = env.str("REEX_PRIVACY_HASH_KEY", default=SECRET_KEY)
CELERY_BEAT_SCHEDULE["privacy-anonymise-ips"] = {
    "task": "privacy.tasks.anonymise_old_ips",
    "schedule": 3600.0,
    "options": {"queue": "bulk", "expires": 3600.0},
}

# --- integrations: feeds, webhooks, the author's edit window ------------------------

# Outbound events, signed with the secret (docs/integrations.md); unset: none are sent.
REEX_WEBHOOK_URL = env.str("REEX_WEBHOOK_URL", default="")
REEX_WEBHOOK_SECRET = env.str("REEX_WEBHOOK_SECRET", default="")
if REEX_WEBHOOK_URL and not REEX_WEBHOOK_SECRET:
    raise ImproperlyConfigured("REEX_WEBHOOK_URL needs REEX_WEBHOOK_SECRET to sign events.")
REEX_SLACK_WEBHOOK_URL = env.str("REEX_SLACK_WEBHOOK_URL", default="")
REEX_WEBHOOK_TIMEOUT_SECONDS = env.float("REEX_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# How long a new comment's author may still edit or delete it (0: never).
REEX_EDIT_WINDOW_MINUTES = env.int("REEX_EDIT_WINDOW_MINUTES", default=15)
# The schema declares no authentication on operations anyone may call.
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "reex.schema.PublicAwareAutoSchema"
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "reex.schema.describe_outages",
]
# The embed sends the author's edit token in this header, cross-origin.
CORS_ALLOW_HEADERS = (*corsheaders_default_headers, "x-reex-edit-token")
CELERY_BEAT_SCHEDULE["webhooks-requeue"] = {
    "task": "reex.tasks.requeue_webhooks",
    "schedule": 60.0,
    "options": {"queue": "email", "expires": 60.0},
}
CELERY_BEAT_SCHEDULE["comments-requeue-akismet-feedback"] = {
    "task": "comments.tasks.requeue_akismet_feedback",
    "schedule": 300.0,
    "options": {"queue": "moderation", "expires": 300.0},
}
