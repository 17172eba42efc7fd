"""The production-shaped stack: PostgreSQL, private Redis, gunicorn, a Celery worker, SMTP.

Tests here get the marker ``e2e`` and must not use the Django test database (``db``):
everything goes through ``stack`` (HTTP, ``stack.manage``, ``stack.sql``, ``stack.smtp``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pytest_helpers import enter_or_skip, mark_directory
from tests.support.stack import Stack, running_stack

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, directory=HERE, marker="e2e")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from enter_or_skip(running_stack(tmp_dir=tmp_path_factory.mktemp("stack")))
