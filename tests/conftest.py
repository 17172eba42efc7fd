import os
import uuid

import pytest
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
