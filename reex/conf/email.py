"""Outgoing mail: EMAIL_URL's SMTP server, files under VAR_DIR, or a provider's API."""

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from reex.conf.core import VAR_DIR, env


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
