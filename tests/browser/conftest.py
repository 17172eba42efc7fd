"""The ``make run`` stack (embedded defaults) and a headless Chromium page driven by Playwright.

Tests here get the marker ``browser`` and must not use the Django test database (``db``):
Playwright's sync API keeps an asyncio loop running in this thread while a browser is
open, and Django refuses database access from a thread with a running loop
(``SynchronousOnlyOperation``). The browser therefore lives only while this package's
tests run (``scope="package"``), so tests elsewhere in the session touch the database as
usual, and ``DJANGO_ALLOW_ASYNC_UNSAFE`` is not needed. Talk to the app through
``dev_stack`` (HTTP, ``dev_stack.manage``) instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from devstack.dev import DevStack, running_dev_stack
from tests.browser.host_site import HostSite, running_host_site
from tests.conftest import skip_or_fail
from tests.support.pytest_helpers import (
    enter_or_skip,
    mark_directory,
    output_on_failure,
    restored_after,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright waits (clicks, navigation, expect) give up after this many milliseconds.
DEFAULT_TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, directory=HERE, marker="browser")


pytest_runtest_makereport = output_on_failure("dev_stack")


@pytest.fixture(scope="session")
def host_site() -> Iterator[HostSite]:
    """A news site on another origin that embeds reex (test_embed.py)."""
    with running_host_site() as site:
        yield site


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory: pytest.TempPathFactory, host_site: HostSite) -> Iterator[DevStack]:
    # The settings a site that embeds reex sets: its origin, and its pages' URL prefix.
    embed = {
        "REEX_CORS_ORIGINS": host_site.origin,
        "REEX_SITE_URLS": f"{host_site.origin}/article/",
    }
    stack = running_dev_stack(tmp_dir=tmp_path_factory.mktemp("dev_stack"), extra_env=embed)
    for running in enter_or_skip(stack):
        host_site.reex_origin = running.base_url
        yield running


@pytest.fixture(autouse=True)
def _dev_stack_restored(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from restored_after(request, "dev_stack")


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        skip_or_fail(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed")
        raise
    playwright = sync_playwright().start()
    try:
        try:
            launched = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000
            )
        except Error as error:
            skip_or_fail(f"Playwright cannot launch {CHROMIUM}: {error}")
            raise
        try:
            yield launched
        finally:
            launched.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context (own cookies and storage) for each test."""
    context = browser.new_context()
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
