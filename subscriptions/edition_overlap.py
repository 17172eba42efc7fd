"""The row check on a thread of its own, while the same row's SMTP envelope goes out.

Each message needs PostgreSQL (mark the previous row sent, check this one again: one
statement) besides its round trips to the mail server, and the worker would wait on each
in turn. A helper thread with its own database connection runs the statement while this
message's MAIL FROM and RCPT TO go; its DATA goes only once the statement answered. So a
message is still delivered only after the previous row's mark committed and its own
check passed; a worker killed in between leaves a transaction without DATA, which the
mail server drops.
"""

import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connection

from subscriptions import sql


def available() -> bool:
    """Whether a second connection sees and commits what this one does: PostgreSQL in
    autocommit, outside a transaction (tests run inside one)."""
    return (
        connection.vendor == "postgresql"
        and connection.get_autocommit()
        and not connection.in_atomic_block
    )


class Lookahead:
    """One helper thread and its database connection, for one batch."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edition-check")
        try:
            self._pool.submit(_set_unflushed, True).result()
        except BaseException:
            self.close()
            raise

    def check(self, **kwargs: Any) -> "Future[tuple[sql.Checked | None, int]]":
        """Start ``sql.edition_row_check(**kwargs)`` (with its mark of the previous row,
        ``sent``) on the helper's connection."""
        return self._pool.submit(sql.edition_row_check, **kwargs)

    def close(self) -> None:
        """Give the helper's connection back (its setting reset) and end the thread."""
        try:
            self._pool.submit(_release).result()
        finally:
            self._pool.shutdown()


def _set_unflushed(on: bool) -> None:
    # Each mark is its own commit: no disk flush waited for (see reex.db.commits_unflushed).
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF" if on else "RESET synchronous_commit")


def _release() -> None:
    try:
        if connection.connection is not None:
            with contextlib.suppress(Exception):  # a broken connection: closed all the same
                _set_unflushed(False)
    finally:
        connection.close()
