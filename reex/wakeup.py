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

import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

from reex.cache import REDIS_DOWN
from reex.enqueue import enqueue

if TYPE_CHECKING:
    from celery import Task

PREFIX = "wake:"
# A window this process saw open, by its Redis key: until when (this process's clock) a
# wake-up may skip asking Redis. The woken task drains once more after the window's
# deadline, so a row committed before the deadline is taken without a publish; the margin
# (a share of the window) absorbs clock differences between the web and worker machines.
SKEW_MARGIN = 0.5
_known_open: dict[str, float] = {}
_set_get_refused: list[bool] = []


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
    if time.time() < _known_open.get(key, 0.0):
        return False
    try:
        opened, until = _set_unless_open(client, key, deadline=deadline, seconds=seconds)
    except REDIS_DOWN:
        return True
    if until is not None:
        # Ask again only after the margin: the woken task's last drain comes after it.
        _known_open[key] = until - seconds * SKEW_MARGIN
    return opened


def _set_unless_open(
    client: Any, key: str, *, deadline: float, seconds: float
) -> tuple[bool, float | None]:
    """SET NX the deadline; return whether it was set and the open window's deadline (None
    when unknown: a Redis before 7.0 cannot answer SET NX GET)."""
    px = max(1, int(seconds * 1000))
    if not _set_get_refused:
        try:
            previous = client.set(key, repr(deadline), px=px, nx=True, get=True)
        except redis.exceptions.ResponseError:
            _set_get_refused.append(True)
        else:
            if previous is None:
                return True, deadline
            return False, _deadline_read(previous)
    return bool(client.set(key, repr(deadline), px=px, nx=True)), None


def _deadline_read(value: bytes | str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


# Delete the window only if it is still the one read: a task must never close a window that
# another request opened after its own expired (that request's process would skip asking
# Redis while the window it opened was gone, and nothing would drain its next rows).
_CLOSE_IF_SAME = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
)


def _window_value(name: str) -> Any:
    """The open window's stored deadline, as stored (None: no window, or Redis down)."""
    found = _redis(PREFIX + name)
    try:
        return cache.get(PREFIX + name) if found is None else found[0].get(found[1])
    except REDIS_DOWN:
        return None


def _window_close(name: str, *, only: Any) -> None:
    """Close the window ``name`` if it still holds the value ``only``."""
    found = _redis(PREFIX + name)
    with contextlib.suppress(*REDIS_DOWN):
        if found is None:
            if cache.get(PREFIX + name) == only:
                cache.delete(PREFIX + name)
            return
        client, key = found
        _known_open.pop(key, None)
        client.eval(_CLOSE_IF_SAME, 1, key, only)


def wake(task: Task[..., object], *args: object, name: str) -> bool:
    """Publish ``task`` unless a wake-up for ``name`` is under way; False if the broker
    refused it (the rows wait for the sweep, and the window closes for the next try)."""
    seconds = settings.REEX_WAKE_SECONDS
    if seconds <= 0:
        return enqueue(task, *args)
    deadline = time.time() + seconds
    if not _window_open(name, deadline=deadline, seconds=seconds):
        return True
    if enqueue(task, *args):
        return True
    on_redis = _redis(PREFIX + name) is not None  # Redis holds the text, another cache the float
    _window_close(name, only=repr(deadline) if on_redis else deadline)
    return False


def wake_on_commit(task: Task[..., object], *args: object, name: str) -> None:
    transaction.on_commit(lambda: wake(task, *args, name=name))


@contextlib.contextmanager
def handed_over_on_failure(name: str, task: Task[..., object], *args: object) -> Iterator[None]:
    """Run the woken task's own work; if it fails, queue ``task(*args)`` to take over: it
    drains, waits out the window, closes it and drains again, so what was saved while the
    window was open is taken (the failed work is retried by the task's own retry). The
    window stays open meanwhile: requests that saw it open rely on that last drain."""
    try:
        yield
    except Exception:
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
    value = _window_value(name)
    if value is not None:
        deadline = float(value.decode() if isinstance(value, bytes) else value)
        time.sleep(min(max(0.0, deadline - time.time()), settings.REEX_WAKE_SECONDS))
        _window_close(name, only=value)
    return total + drain(take)
