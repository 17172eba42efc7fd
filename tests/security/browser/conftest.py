"""Browser tier of the hostile-input suites: the harness's ``dev_stack`` and ``page``.

The fixtures are the harness's own (tests/browser/conftest.py), re-exported here so that
these tests share its rules: marker ``browser``, no Django test database in this package.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import (  # noqa: F401  (fixtures, found by name)
    _dev_stack_restored,
    browser,
    dev_stack,
    host_site,
    page,
    pytest_runtest_makereport,  # on failure, the stack's process output in the report
)
from tests.support.pytest_helpers import mark_directory

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, directory=HERE, marker="browser")
