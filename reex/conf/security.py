"""HTTPS, cookies, security headers (CSP), CORS for the embed, and request limits."""

from corsheaders.defaults import default_headers as corsheaders_default_headers
from csp.constants import NONE, SELF

from reex.conf.core import BASE_DIR, REEX_BASE_URL, REEX_HTTPS, REEX_TRUSTED_PROXIES, env

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
# The embed sends the author's edit token in this header, cross-origin.
CORS_ALLOW_HEADERS = (*corsheaders_default_headers, "x-reex-edit-token")
# Site URL prefixes under which a first comment may create an unknown article.
REEX_SITE_URLS = env.list("REEX_SITE_URLS", default=[])
# /embed.js and /embed.css are served at the site's root, with CORS (WhiteNoise's default).
WHITENOISE_ROOT = BASE_DIR / "reex" / "public"
CSRF_TRUSTED_ORIGINS = [REEX_BASE_URL]
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
SILENCED_SYSTEM_CHECKS = [] if REEX_HTTPS else ["security.W004", "security.W008"]
