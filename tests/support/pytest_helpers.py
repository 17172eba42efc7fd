"""Pytest glue shared by the e2e and browser conftests."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from devstack.services import ServiceUnavailable
from tests.conftest import skip_or_fail

T = TypeVar("T")


def mark_directory(items: list[pytest.Item], *, directory: Path, marker: str) -> None:
    """Add ``marker`` to every collected test that lives under ``directory``."""
    for item in items:
        if directory in item.path.parents:
            item.add_marker(getattr(pytest.mark, marker))


def attach_process_output(item: pytest.Item, report: pytest.TestReport, fixture: str) -> None:
    """On failure, add the state and recent output of the stack's processes to the report."""
    stack = getattr(item, "funcargs", {}).get(fixture)
    if report.failed and stack is not None:
        report.sections.append((f"{fixture} processes", stack.process_report()))


def output_on_failure(fixture: str) -> Callable[..., Any]:
    """Return a ``pytest_runtest_makereport`` hook that adds ``fixture``'s process output."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        attach_process_output(item, report, fixture)
        return report

    return pytest_runtest_makereport


def restored_after(request: pytest.FixtureRequest, fixture: str) -> Iterator[None]:
    """After a test that used the stack ``fixture``, start again whatever it left stopped."""
    stack = request.getfixturevalue(fixture) if fixture in request.fixturenames else None
    yield
    if stack is not None:
        stack.restore()


def enter_or_skip(manager: AbstractContextManager[T]) -> Iterator[T]:
    """Yield what ``manager`` gives; skip (or fail under CI) when a service is missing."""
    try:
        value = manager.__enter__()
    except ServiceUnavailable as error:
        skip_or_fail(str(error))
        raise AssertionError("unreachable") from error
    try:
        yield value
    except BaseException as error:
        if not manager.__exit__(type(error), error, error.__traceback__):
            raise
    else:
        manager.__exit__(None, None, None)
