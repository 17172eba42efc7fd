"""Shared pieces of the hostile-input suites: the public test data and API identities."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from comments.models import Article
from tests.conftest import skip_or_fail
from tests.factories import ArticleFactory, make_moderator

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
XSS = DATA / "xss"


def data_file(*parts: str) -> Path:
    """Return a file of ``<repo>/../shared/data``; skip (or fail in CI) when it is absent."""
    path = DATA.joinpath(*parts)
    if not path.is_file():
        skip_or_fail(f"test data {path} is missing (see shared/data/README.md)")
    return path


def naughty_strings() -> list[str]:
    """Return the Big List of Naughty Strings (blns.json), in its own order."""
    strings = json.loads(data_file("xss", "blns", "blns.json").read_text(encoding="utf-8"))
    assert isinstance(strings, list) and len(strings) > 500
    return [str(value) for value in strings]


@pytest.fixture(autouse=True)
def _hostile_settings(settings):
    """No bot timers, floods or throttles: the suites send many requests on purpose."""
    settings.REEX_FORM_MIN_SECONDS = 0
    settings.REEX_COMMENT_FLOOD_SECONDS = 0
    settings.REEX_BASE_URL = "http://testserver"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"comment": None, "subscribe": None}
    settings.REST_FRAMEWORK = rest


GUARDS = ["reex.middleware.RequestBodyLimitMiddleware", "reex.middleware.ApiJsonErrorsMiddleware"]


@pytest.fixture(autouse=True)
def _guard_middleware(settings):
    """Wire the request guards right after SecurityMiddleware when settings do not yet."""
    missing = [name for name in GUARDS if name not in settings.MIDDLEWARE]
    if missing:
        middleware = list(settings.MIDDLEWARE)
        at = middleware.index("django.middleware.security.SecurityMiddleware") + 1
        settings.MIDDLEWARE = [*middleware[:at], *missing, *middleware[at:]]


@pytest.fixture
def wsgi_app(_guard_middleware) -> Iterator[WSGIHandler]:
    """A WSGI application built from the settings in force (reex.wsgi's is built once).

    As Django's test client does, requests keep the test's database connection: after
    each request Django would otherwise close it, ending the test's transaction.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def article(db) -> Article:
    return ArticleFactory.create(key="hostile", title="Hostile input")


@pytest.fixture
def moderator(db) -> User:
    return make_moderator(username="hostile-mod")


@pytest.fixture
def moderator_token(moderator: User) -> str:
    return Token.objects.create(user=moderator).key
