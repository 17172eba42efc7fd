"""The production-shaped stack: PostgreSQL, private Redis, gunicorn, a Celery worker, SMTP.

Tests here get the marker ``e2e`` and must not use the Django test database (``db``):
everything goes through ``stack`` (HTTP, ``stack.manage``, ``stack.sql``, ``stack.smtp``).
The stack lives for the whole session; after each test any service a test stopped
(``stack.stop_process``, ``stack.smtp.stop``) is started again, so tests stay independent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import Stack, running_stack
from tests.support.pytest_helpers import (
    enter_or_skip,
    mark_directory,
    output_on_failure,
    restored_after,
)

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, directory=HERE, marker="e2e")


pytest_runtest_makereport = output_on_failure("stack")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from enter_or_skip(running_stack(tmp_dir=tmp_path_factory.mktemp("stack")))


@pytest.fixture(autouse=True)
def _stack_restored(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from restored_after(request, "stack")
