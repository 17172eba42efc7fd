"""``python -m bench.dashboard DATABASE [--requests N] [--summary] [--url URL]``: the
moderators' dashboard timed in process, on a kept database (the million comments).

Fill ``DATABASE`` first (``manage.py seed_bench --comments=1000000 --articles=20000``, then
``VACUUM ANALYZE``); ``--summary`` recomputes its last 30 days of summary rows. Logs a
moderator in with Django's test client and times the page: wall-clock median, p95 and
max, CPU per request, and the SQL statements of one request with their time. ``--url``
also times it over HTTP from a server started in ``--print-env``'s environment;
``--cprofile`` adds the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import sys
import time
from typing import Any

from bench.profile import write_profile
from bench.stack import ADMIN_URL, BENCH_SETTINGS
from bench.stats import median, percentile

PATH = "/admin/comments/moderationday/"
MODERATOR = "bench-moderator"
WARM = 3


class _Timed:
    """An execute wrapper that keeps each statement's SQL and wall-clock seconds."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, float]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, time.perf_counter() - started))


def _environment(database: str) -> dict[str, str]:
    base = ADMIN_URL.rsplit("/", 1)[0]
    redis = os.environ.get("REEX_BENCH_PROFILE_REDIS", "redis://127.0.0.1:6379/13")
    env = dict(
        DJANGO_SETTINGS_MODULE="reex.settings",
        DEBUG="0",
        SECRET_KEY="bench-dashboard-only-" + "k" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        REEX_HTTPS="0",
        DATABASE_URL=f"{base}/{database}",
        REDIS_URL=redis,
        CELERY_BROKER_URL=redis,
        EMAIL_URL="smtp://127.0.0.1:1",
        LOG_LEVEL="ERROR",
        **BENCH_SETTINGS,
    )
    os.environ.update(env)
    return env


def _client() -> Any:
    from django.contrib.auth.models import Group, User
    from django.test import Client

    user, _ = User.objects.get_or_create(username=MODERATOR, defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Moderators"))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def measure(requests: int, *, profiler: cProfile.Profile | None = None) -> dict[str, Any]:
    """Time ``requests`` loads of the dashboard; return the figures and one load's SQL."""
    from django.db import connection

    client = _client()
    for _ in range(WARM):
        assert client.get(PATH).status_code == 200
    walls, cpus, sql_ms, counts = [], [], [], []
    timed = _Timed()
    for _ in range(requests):
        timed.statements.clear()
        with connection.execute_wrapper(timed):
            wall, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            status = client.get(PATH).status_code
            if profiler:
                profiler.disable()
            cpus.append((time.process_time() - cpu) * 1000)
            walls.append((time.perf_counter() - wall) * 1000)
        assert status == 200, status
        sql_ms.append(sum(seconds for _, seconds in timed.statements) * 1000)
        counts.append(len(timed.statements))
    return {
        "median_ms": median(walls),
        "p95_ms": percentile(walls, 95),
        "max_ms": max(walls),
        "cpu_ms": median(cpus),
        "sql_ms": median(sql_ms),
        "queries": max(counts),
        "statements": [(sql, seconds * 1000) for sql, seconds in timed.statements],
    }


def measure_http(base_url: str, requests: int) -> dict[str, Any]:
    """Time ``requests`` loads over HTTP from a server on this database and environment."""
    from bench.lists import _time

    cookie = _client().cookies["sessionid"].value
    times, statuses = _time(base_url + PATH, cookie, requests)
    assert set(statuses) == {200}, statuses
    return {"median_ms": median(times), "p95_ms": percentile(times, 95), "max_ms": max(times)}


def _print(figures: dict[str, Any], requests: int) -> None:
    out = sys.stdout
    out.write(
        f"dashboard x{requests}: median {figures['median_ms']:.1f} ms, "
        f"p95 {figures['p95_ms']:.1f} ms, max {figures['max_ms']:.1f} ms, "
        f"cpu {figures['cpu_ms']:.1f} ms, sql {figures['sql_ms']:.1f} ms "
        f"in {figures['queries']} queries\n"
    )
    for sql, ms in figures["statements"]:
        out.write(f"  {ms:7.2f} ms  {sql[:160]}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    parser.add_argument("database", help="a kept, filled database, e.g. reex_benchscale")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--summary", action="store_true", help="recompute 30 summary days")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--print-env", action="store_true", help="print the env and stop")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--url", help="also time over HTTP: a server started with this env")
    args = parser.parse_args(argv)
    env = _environment(args.database)
    if args.print_env:
        sys.stdout.write("".join(f"export {key}={value}\n" for key, value in env.items()))
        return 0
    import django

    django.setup()
    from django.core.management import call_command

    if args.summary:
        call_command("moderation_summary", "--days", "30")
    profiler = cProfile.Profile(time.process_time) if args.cprofile else None
    figures = measure(args.requests, profiler=profiler)
    _print(figures, args.requests)
    if args.url:
        http = measure_http(args.url, args.requests)
        sys.stdout.write(
            f"over HTTP x{args.requests}: median {http['median_ms']:.1f} ms, "
            f"p95 {http['p95_ms']:.1f} ms, max {http['max_ms']:.1f} ms\n"
        )
    if profiler:
        write_profile(profiler, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
