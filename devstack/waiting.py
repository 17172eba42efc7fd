"""Bounded polling: every wait in the harness ends, and says what it waited for."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    fn: Callable[[], T],
    *,
    timeout: float = 30,
    interval: float = 0.1,
    message: str | Callable[[], str] = "",
) -> T:
    """Poll ``fn()`` until it returns something truthy and return that value.

    Raise ``TimeoutError`` (naming the last value and ``message``) after ``timeout`` seconds.
    Exceptions raised by ``fn`` propagate: a broken probe should fail loudly, not spin.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = message() if callable(message) else message
            name = getattr(fn, "__qualname__", repr(fn))
            raise TimeoutError(
                f"{name} stayed falsy for {timeout:g}s (last value {value!r}). {detail}".strip()
            )
        time.sleep(interval)
