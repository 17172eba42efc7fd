import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reex.conf.api import _rate
from reex.conf.email import _email_settings

ROOT = Path(__file__).resolve().parents[1]
# Everything reex/settings.py may read, so that a resolved setting depends on the test alone.
READ_PREFIXES = ("REEX_", "EMAIL_", "CELERY_", "AKISMET_", "LOG_", "PROMETHEUS_", "DJANGO_")
READ_NAMES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "DEFAULT_FROM_EMAIL",
    "ANYMAIL_WEBHOOK_SECRET",
}
RESOLVE = (
    "import json, reex.settings as s; "
    "print(json.dumps({n: getattr(s, n) for n in dir(s) if n.isupper()}, default=str))"
)
PRODUCTION = {
    "SECRET_KEY": "production-secret",
    "DATABASE_URL": "postgres://reex@db.example.org:5432/reex",
    "REDIS_URL": "redis://cache.example.org:6379/1",
    "EMAIL_PROVIDER": "Mailjet",
    "EMAIL_PROVIDER_KEY": "public:private",
    "REEX_TRUSTED_PROXIES": "10.0.0.1",
    "REEX_FEED_URLS": "https://news.example.org/feed/, ",
    "REEX_FEED_POLL_MINUTES": "5",
    "REEX_METRICS": "0",
    "LOG_FORMAT": "json",
    "REEX_COMMENT_RATE": "0",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _settings_process(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    kept = {
        name: value
        for name, value in os.environ.items()
        if name not in READ_NAMES and not name.startswith(READ_PREFIXES)
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**kept, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _resolve(**env: str) -> dict[str, Any]:
    """Return every setting as reex.settings resolves it under exactly this environment."""
    result = _settings_process(RESOLVE, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="module")
def bare(var_dir: Path) -> dict[str, Any]:
    return _resolve(DEBUG="1", REEX_VAR_DIR=str(var_dir))


@pytest.fixture(scope="module")
def production(var_dir: Path) -> dict[str, Any]:
    return _resolve(REEX_VAR_DIR=str(var_dir), **PRODUCTION)


def test_a_bare_checkout_keeps_sqlite_in_the_var_dir(bare, var_dir):
    database = bare["DATABASES"]["default"]

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(var_dir / "reex.sqlite3")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_a_bare_checkout_queues_caches_and_mails_to_files(bare, var_dir):
    assert bare["CELERY_BROKER_URL"] == "filesystem://"
    assert bare["CELERY_BROKER_TRANSPORT_OPTIONS"]["data_folder_in"] == str(
        var_dir / "celery" / "queue"
    )
    assert bare["CACHES"]["default"]["LOCATION"] == str(var_dir / "cache")
    assert bare["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert bare["EMAIL_FILE_PATH"] == str(var_dir / "mail")


def test_debug_uses_the_development_key_over_plain_http(bare):
    assert bare["SECRET_KEY"] == "django-insecure-reex-development-only"
    assert (bare["SECURE_SSL_REDIRECT"], bare["SECURE_HSTS_SECONDS"]) == (False, 0)
    assert bare["SILENCED_SYSTEM_CHECKS"] == ["security.W004", "security.W008"]


def test_every_periodic_task_is_scheduled_in_order(bare):
    assert list(bare["CELERY_BEAT_SCHEDULE"]) == [
        "comments-requeue-unchecked",
        "comments-requeue-unsent-notifications",
        "comments-purge-spam",
        "comments-spam-retrain",
        "comments-moderation-summary",
        "subscriptions-requeue",
        "subscriptions-purge-pending",
        "subscriptions-editions-due",
        "newsletter-requeue-editions",
        "privacy-anonymise-ips",
        "webhooks-requeue",
        "comments-requeue-akismet-feedback",
    ]


def test_the_api_schema_uses_reex_own_class_and_hooks(bare):
    assert bare["REST_FRAMEWORK"]["DEFAULT_SCHEMA_CLASS"] == "reex.schema.PublicAwareAutoSchema"
    assert bare["SPECTACULAR_SETTINGS"]["POSTPROCESSING_HOOKS"] == [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "reex.schema.describe_outages",
    ]
    assert "x-reex-edit-token" in bare["CORS_ALLOW_HEADERS"]


def test_production_pools_postgres_connections(production):
    database = production["DATABASES"]["default"]

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"]["pool"] == {
        "min_size": 1,
        "max_size": 4,
        "timeout": 10.0,
        "max_idle": 300,
    }


def test_redis_url_backs_the_cache_and_the_broker(production):
    assert production["CACHES"]["default"]["BACKEND"] == "reex.cache.FailOpenRedisCache"
    assert production["CELERY_BROKER_URL"] == "redis://cache.example.org:6379/1"
    assert production["CELERY_BROKER_TRANSPORT_OPTIONS"] == {"visibility_timeout": 3600}


def test_an_email_provider_sends_through_its_api(production):
    assert production["EMAIL_BACKEND"] == "anymail.backends.mailjet.EmailBackend"
    assert production["ANYMAIL"] == {
        "WEBHOOK_SECRET": "",
        "MAILJET_API_KEY": "public",
        "MAILJET_SECRET_KEY": "private",
    }


def test_production_is_https_behind_its_proxies(production):
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] == 31536000
    assert production["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert production["SILENCED_SYSTEM_CHECKS"] == []


def test_metrics_off_and_json_logs_change_middleware_and_workers(production):
    assert "reex.metrics.MetricsMiddleware" not in production["MIDDLEWARE"]
    assert production["LOGGING"]["handlers"]["console"]["formatter"] == "json"
    assert production["CELERY_WORKER_HIJACK_ROOT_LOGGER"] is False


def test_feed_urls_schedule_a_poll_every_few_minutes(production):
    assert production["REEX_FEED_URLS"] == ["https://news.example.org/feed/"]
    assert production["CELERY_BEAT_SCHEDULE"]["comments-poll-feeds"]["schedule"] == 300.0


def test_product_settings_default_from_core_ones(production):
    assert production["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"]["comment"] is None
    assert production["REEX_PRIVACY_HASH_KEY"] == "production-secret"
    assert production["REEX_NEWSLETTER_TIME_ZONE"] == "UTC"


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"EMAIL_URL": "http://mail.example.org"}, "EMAIL_URL must start with smtp://"),
        ({"EMAIL_PROVIDER": "pigeon"}, "EMAIL_PROVIDER 'pigeon' is not supported."),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT is plain or json"),
        ({"REEX_MODERATION_MODE": "never"}, "REEX_MODERATION_MODE must be auto, first or all."),
        ({"REEX_HOLD_THRESHOLD": "0.99"}, "Need 0 <= REEX_HOLD_THRESHOLD"),
        ({"REEX_FEED_URLS": "ftp://x.example"}, "REEX_FEED_URLS must be http:// or https://"),
        ({"REEX_NEWSLETTER_TIME": "7pm"}, "REEX_NEWSLETTER_TIME must be HH:MM"),
        ({"REEX_NEWSLETTER_TIME_ZONE": "Mars/Base"}, "REEX_NEWSLETTER_TIME_ZONE must be a zone"),
        ({"REEX_WEBHOOK_URL": "https://h.example"}, "REEX_WEBHOOK_URL needs REEX_WEBHOOK_SECRET"),
        ({"REEX_DB_POOL_SIZE": "four"}, "ValueError: invalid literal for int()"),
    ],
)
def test_it_refuses_to_start_with_a_bad_value(env, error, var_dir):
    result = _settings_process(
        "import reex.settings", {"DEBUG": "1", "REEX_VAR_DIR": str(var_dir), **env}
    )

    assert result.returncode != 0
    assert error in result.stderr


def test_it_reads_smtp_with_starttls_from_email_url():
    email = _email_settings("smtp://ann:p%40ss@mail.example.org:587?tls")

    assert email["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (email["EMAIL_HOST"], email["EMAIL_PORT"]) == ("mail.example.org", 587)
    assert (email["EMAIL_HOST_USER"], email["EMAIL_HOST_PASSWORD"]) == ("ann", "p@ss")
    assert email["EMAIL_USE_TLS"] is True
    assert email["EMAIL_USE_SSL"] is False


def test_it_reads_implicit_tls_from_email_url():
    assert _email_settings("smtp://mail.example.org:465?ssl")["EMAIL_USE_SSL"] is True


def test_it_writes_mail_to_files_without_email_url():
    assert (
        _email_settings("")["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    )


def test_it_reads_zero_as_no_rate_limit():
    assert _rate("0") is None
    assert _rate("10/min") == "10/min"


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = _manage("check", DEBUG="0")

    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_deploy_check_is_clean_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="news.example.org",
        REEX_HTTPS="1",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
