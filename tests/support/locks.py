"""Transactions on other threads, for tests of what runs while rows are locked (PostgreSQL).

Each thread has its own database connection, so what it locked or wrote stays locked (and
uncommitted) until it ends: the races parallel requests or workers would run into.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from devstack.waiting import wait_until

TIMEOUT = 30
WAITING_ON_A_LOCK = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock'"
)


class OwnConnection(threading.Thread):
    """Call ``fn`` on a thread of its own; keep what it returned or raised."""

    def __init__(self, fn: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self.fn = fn
        self.result: object = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as error:
            self.error = error
        finally:
            connection.close()

    def outcome(self, timeout: float = TIMEOUT) -> object:
        """Wait for the call to end; return its result, or raise what it raised."""
        self.join(timeout=timeout)
        if self.is_alive():
            raise TimeoutError(f"{self.fn!r} still running after {timeout:g}s")
        if self.error is not None:
            raise self.error
        return self.result


def started(*fns: Callable[[], object]) -> list[OwnConnection]:
    """Start each of ``fns`` on a thread (and connection) of its own."""
    threads = [OwnConnection(fn) for fn in fns]
    for thread in threads:
        thread.start()
    return threads


@contextmanager
def held_in_transaction(work: Callable[[], object]) -> Iterator[None]:
    """Run ``work`` in a transaction on another thread; keep it open until the block ends.

    Raise what ``work`` raised, at the start of the block or at its end.
    """
    done, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                work()
                done.set()
                release.wait(timeout=TIMEOUT)
        finally:
            done.set()

    holder = OwnConnection(hold)
    holder.start()
    try:
        done.wait(timeout=TIMEOUT)
        if holder.error is not None:
            raise holder.error
        yield
    finally:
        release.set()
        holder.outcome()


def row_locked(rows: QuerySet[Any]) -> AbstractContextManager[None]:
    """Hold ``rows`` locked (``SELECT ... FOR UPDATE``) from another connection in a block."""
    return held_in_transaction(lambda: list(rows.select_for_update()))


def lock_waiters() -> int:
    """Return how many sessions of this database wait for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(WAITING_ON_A_LOCK)
        return int(cursor.fetchone()[0])


def wait_for_lock_waiters(count: int, *, message: str = "") -> None:
    """Wait until ``count`` sessions of this database wait for a lock."""
    wait_until(lambda: lock_waiters() >= count, timeout=10, message=message)
