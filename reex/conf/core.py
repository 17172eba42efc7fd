"""Where reex runs: its directories, secret key, host names, apps and middleware."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
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
    "reex.metrics.MetricsMiddleware",  # removed with REEX_METRICS=0 (monitoring.py)
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
    "reex.security_policy.SitePolicyCSPMiddleware",  # django-csp, its policy built once
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
