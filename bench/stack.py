"""The production shape on loopback for the benchmark, started and always stopped.

The harness is ``devstack``'s; the benchmark asks for quiet logs (gunicorn writes no
access log, Celery logs warnings only) because logging would distort the figures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack.base import DEFAULT_POSTGRES_URL, NO_LIMITS
from devstack.services import kept_database
from devstack.stack import Stack, running_stack

ADMIN_URL = os.environ.get("REEX_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
# Every bench request is a new author: no duplicate, flood, throttle or cooldown answers.
BENCH_SETTINGS = {**NO_LIMITS, "REEX_CONFIRMATION_COOLDOWN_SECONDS": "0"}


@contextmanager
def running_bench_stack(*, work_dir: Path, database: str | None = None) -> Iterator[Stack]:
    """Start PostgreSQL database, Redis, SMTP sink, gunicorn and a Celery worker; stop all.

    The database is a fresh one, dropped at the end, unless ``database`` names one to
    create if missing and keep (the scale benchmark's million rows).
    """
    with running_stack(
        tmp_dir=work_dir,
        admin_url=ADMIN_URL,
        database=database,
        quiet=True,
        settings=BENCH_SETTINGS,
        name="bench",
    ) as stack:
        yield stack


def drop_kept_database(name: str) -> None:
    """Start the next run on a new, empty copy of the kept database ``name``."""
    kept_database(ADMIN_URL, name, fresh=True)
