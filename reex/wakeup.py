"""Waking the workers at most once per short interval instead of a task per row.

The rows are the queue: a comment is saved pending and unchecked, so a request only has to
make sure a worker is awake to take it. ``wake`` opens a window (Redis ``SET NX PX``, one
round trip on the cache's kept connection) and publishes the task only if it opened one;
a request inside an open window publishes nothing. The woken task drains the rows, waits
until its window ends, closes it and drains once more (``drain_until_quiet``): a row saved
while the window was open is taken by that last drain, and a row saved after the close
opens a window of its own. So nothing waits for the minute sweep, which stays for faults
(a lost message, the broker down).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

from reex.cache import REDIS_DOWN
from reex.enqueue import enqueue

if TYPE_CHECKING:
    from celery import Task

PREFIX = "wake:"


def _redis(key: str) -> tuple[Any, str] | None:
    """Return the cache's Redis client and the full key, or None for another cache."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = backend._cache.get_client(write=True)  # type: ignore[attr-defined]
    return client, backend.make_and_validate_key(key)


def _window_open(name: str, *, deadline: float, seconds: float) -> bool:
    """Open the window until ``deadline``; False if one is open. Redis down opens it."""
    found = _redis(PREFIX + name)
    if found is None:
        return bool(cache.add(PREFIX + name, deadline, timeout=math.ceil(seconds)))
    client, key = found
    try:
        return bool(client.set(key, repr(deadline), px=max(1, int(seconds * 1000)), nx=True))
    except REDIS_DOWN:
        return True


def _window_deadline(name: str) -> float | None:
    found = _redis(PREFIX + name)
    try:
        value = cache.get(PREFIX + name) if found is None else found[0].get(found[1])
    except REDIS_DOWN:
        return None
    return None if value is None else float(value)


def _window_close(name: str) -> None:
    found = _redis(PREFIX + name)
    with contextlib.suppress(*REDIS_DOWN):
        cache.delete(PREFIX + name) if found is None else found[0].delete(found[1])


def wake(task: Task[..., object], *args: object, name: str) -> bool:
    """Publish ``task`` unless a wake-up for ``name`` is under way; False if the broker
    refused it (the rows wait for the sweep, and the window closes for the next try)."""
    seconds = settings.REEX_WAKE_SECONDS
    if seconds <= 0:
        return enqueue(task, *args)
    if not _window_open(name, deadline=time.time() + seconds, seconds=seconds):
        return True
    if enqueue(task, *args):
        return True
    _window_close(name)
    return False


def wake_on_commit(task: Task[..., object], *args: object, name: str) -> None:
    transaction.on_commit(lambda: wake(task, *args, name=name))


@contextlib.contextmanager
def handed_over_on_failure(name: str, task: Task[..., object], *args: object) -> Iterator[None]:
    """Run the woken task's own work; if it fails, close the window and queue ``task(*args)``
    to drain what was saved while the window was open (the failed work is retried by the
    task's own retry). Rows saved after the close publish their own wake-up."""
    try:
        yield
    except Exception:
        _window_close(name)
        enqueue(task, *args)
        raise


def drain(take: Callable[[], int]) -> int:
    """Call ``take`` (which handles one batch and counts it) until it finds nothing."""
    total = 0
    while taken := take():
        total += taken
    return total


def drain_until_quiet(name: str, take: Callable[[], int]) -> int:
    """Drain, wait out the window ``name`` (at most REEX_WAKE_SECONDS), close it, drain."""
    total = drain(take)
    deadline = _window_deadline(name)
    if deadline is not None:
        time.sleep(min(max(0.0, deadline - time.time()), settings.REEX_WAKE_SECONDS))
        _window_close(name)
    return total + drain(take)
