"""What the project's written-out SQL needs from the database, checked in one place."""

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

# UPDATE ... RETURNING and INSERT ... RETURNING arrived in SQLite 3.35.
SQLITE_MINIMUM = (3, 35, 0)


def skip_locked(connection: BaseDatabaseWrapper) -> str:
    """Return the clause that makes a claim skip rows other workers hold, where supported.

    SQLite has no row locks: its writers take turns, so the claim needs no clause there.
    """
    if connection.features.has_select_for_update_skip_locked:
        return " FOR UPDATE SKIP LOCKED"
    return ""


def _lock_key(name: str) -> int:
    """Return a signed 64-bit key for ``name`` (a PostgreSQL advisory lock's bigint)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), signed=True)


def advisory_xact_lock(connection: BaseDatabaseWrapper, names: list[str]) -> None:
    """Hold a lock on each name until the current transaction ends (PostgreSQL).

    Taken in one order (sorted keys), so two transactions locking overlapping names
    cannot deadlock. SQLite needs none: its writers take turns (BEGIN IMMEDIATE).
    """
    if connection.vendor != "postgresql" or not names:
        return
    keys = sorted({_lock_key(name) for name in names})
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


@contextmanager
def commits_unflushed() -> Iterator[None]:
    """Let this connection's commits return before PostgreSQL has flushed them to disk.

    For many small bookkeeping writes in a row (a row marked after each email): a commit
    then costs no disk flush. A crash of the database server itself (not of a worker) can
    lose the last fraction of a second of them; a worker killed loses nothing committed.
    """
    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


@register()
def check_sqlite_version(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse an SQLite library too old for the RETURNING clauses the project writes."""
    if not any(c.vendor == "sqlite" for c in connections.all(initialized_only=False)):
        return []
    return sqlite_version_errors(sqlite3.sqlite_version_info)


def sqlite_version_errors(version: tuple[int, ...]) -> list[CheckMessage]:
    if tuple(version[:3]) >= SQLITE_MINIMUM:
        return []
    found = ".".join(map(str, version[:3]))
    needed = ".".join(map(str, SQLITE_MINIMUM))
    return [
        Error(
            f"SQLite {found} is too old: reex needs {needed} or newer (for RETURNING).",
            hint="Use a Python built with a newer SQLite, or PostgreSQL through DATABASE_URL.",
            id="reex.E001",
        )
    ]
