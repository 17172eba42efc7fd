"""The production-shaped stack: PostgreSQL, private Redis, gunicorn, a Celery worker, SMTP.

Tests here get the marker ``e2e`` and must not use the Django test database (``db``):
everything goes through ``stack`` (HTTP, ``stack.manage``, ``stack.sql``, ``stack.smtp``).
The stack lives for the whole session; after each test any service a test stopped
(``stack.stop_process``, ``stack.smtp.stop``) is started again, so tests stay independent.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from devstack.stack import Stack, running_stack
from tests.support.pytest_helpers import attach_process_output, enter_or_skip, mark_directory

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, directory=HERE, marker="e2e")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    attach_process_output(item, report, "stack")
    return report


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from enter_or_skip(running_stack(tmp_dir=tmp_path_factory.mktemp("stack")))


@pytest.fixture(autouse=True)
def _stack_restored(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used ``stack``, start again whatever it left stopped."""
    used = "stack" in request.fixturenames
    stack: Stack | None = request.getfixturevalue("stack") if used else None
    yield
    if stack is not None:
        stack.restore()
