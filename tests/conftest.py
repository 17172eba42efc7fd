import os
import uuid

import pytest
import redis
from django.db import connection

# CI sets this so that a tier whose server or browser is missing fails instead of skipping.
REQUIRE_SERVICES = os.environ.get("REEX_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip the test, or fail it when CI requires every tier to run."""
    if REQUIRE_SERVICES:
        pytest.fail(f"REEX_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Run ``@pytest.mark.postgres_only(reason=...)`` tests on PostgreSQL only."""
    marker = item.get_closest_marker("postgres_only")
    if marker is not None and connection.vendor != "postgresql":
        why = marker.kwargs.get("reason", "")
        skip_or_fail(f"needs PostgreSQL ({why}); set DATABASE_URL" if why else "needs PostgreSQL")


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Give each test its own in-process cache, so throttles and locks never leak."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4()}",
        }
    }


@pytest.fixture
def redis_cache(settings):
    """reex's Redis cache backend (the one production uses) on the test Redis."""
    url = os.environ.get("REEX_TEST_REDIS_URL", "")
    if not url:
        skip_or_fail("needs Redis: set REEX_TEST_REDIS_URL")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        skip_or_fail(f"Redis at {url} is not reachable")
    settings.CACHES = {
        "default": {
            "BACKEND": "reex.cache.FailOpenRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
