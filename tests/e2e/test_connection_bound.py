"""A burst of requests never holds more PostgreSQL connections than the pool allows.

Each server gets its own ``application_name`` (libpq reads ``PGAPPNAME``), so its
connections are counted apart from the stack's worker and beat.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from devstack.base import BIN, MANAGE, PYTHON
from devstack.ports import port_is_open
from devstack.services import start_listening
from tests.faults.support import new_article

POOL_SIZE = 3
REQUESTS = 300
CONCURRENCY = 16


def _runserver(port: int) -> list[str]:
    return [PYTHON, MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"]


def _gunicorn_threads(port: int) -> list[str]:
    return [
        str(BIN / "gunicorn"), "reex.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "--threads", "8", "--worker-class", "gthread",
        "--log-level", "warning",
    ]  # fmt: skip


@contextmanager
def _server(stack, name: str, argv: Callable[[int], Sequence[str]]) -> Iterator[str]:
    env = {**stack.env, "PGAPPNAME": name, "REEX_DB_POOL_SIZE": str(POOL_SIZE)}
    process, port = start_listening(
        name=name, argv=argv, ready=port_is_open, env=env, log_dir=stack.log_dir
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def _get(url: str) -> int | str:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError as error:
        return type(error).__name__


def _burst_peak(stack, name: str, url: str) -> tuple[int, Counter[int | str]]:
    """Send the burst; return the most connections ``name`` held at once, and the answers."""
    peak, done = 0, threading.Event()
    query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, stack.sql(query, (name,))[0][0])
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            answers = Counter(pool.map(_get, [url] * REQUESTS))
        time.sleep(0.5)  # what a server keeps after the burst counts too
    finally:
        done.set()
        sampler.join()
    return peak, answers


@pytest.mark.parametrize(
    ("server", "argv", "processes"),
    [("runserver", _runserver, 1), ("gunicorn-gthread", _gunicorn_threads, 2)],
)
def test_a_burst_holds_at_most_the_pool_per_process(stack, server, argv, processes):
    article = new_article(stack, prefix="pool", title="Pool bound")
    with _server(stack, f"reex-{server}", argv) as base_url:
        # The article page reads the database on every request (no cache in front of it).
        url = f"{base_url}/api/v1/articles/{article['key']}/"
        assert _get(url) == 200

        peak, answers = _burst_peak(stack, f"reex-{server}", url)

    assert answers == Counter({200: REQUESTS})
    assert 0 < peak <= POOL_SIZE * processes
