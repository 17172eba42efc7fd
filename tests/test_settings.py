import os
import secrets
import subprocess
import sys
from pathlib import Path

from reex.settings import _email_settings, _rate

ROOT = Path(__file__).resolve().parents[1]


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
