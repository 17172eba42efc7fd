"""``python -m bench.profile [OPERATION ...] [--requests N] [--cprofile]``: CPU per request.

Calls the WSGI application in a loop, in this process, against a PostgreSQL database of
its own (``reex_benchprofile`` or ``$REEX_BENCH_PROFILE_DB``, created and migrated on first
use) with Redis as broker and cache, the way gunicorn's workers do, and prints per
operation the CPU microseconds per request (``time.process_time``: the steady figure on a
noisy machine) and the SQL queries per request. ``--cprofile`` adds the top functions by
own and cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import json
import os
import pstats
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from bench.stack import ADMIN_URL, BENCH_SETTINGS
from devstack.services import kept_database

DATABASE = os.environ.get("REEX_BENCH_PROFILE_DB", "reex_benchprofile")
REDIS = os.environ.get("REEX_BENCH_PROFILE_REDIS", "redis://127.0.0.1:6379/13")


def _environment(database_url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="reex.settings",
        DEBUG="0",
        # Fixed, so that the unsubscribe links seeded on an earlier run stay valid.
        SECRET_KEY="bench-profile-only-" + "k" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        REEX_HTTPS="0",
        DATABASE_URL=database_url,
        REDIS_URL=REDIS,
        CELERY_BROKER_URL=REDIS,
        EMAIL_URL="smtp://127.0.0.1:1",
        LOG_LEVEL="ERROR",
        **BENCH_SETTINGS,
    )


@dataclass
class Call:
    method: str
    path: str
    body: bytes = b""
    content_type: str = "application/json"


def _environ(call: Call) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": call.method,
        "PATH_INFO": call.path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "wrk",
        "CONTENT_TYPE": call.content_type,
        "CONTENT_LENGTH": str(len(call.body)),
        "wsgi.input": io.BytesIO(call.body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def _operations(unsubscribe_paths: list[str]) -> dict[str, Callable[[int], Call]]:
    from bench.seed import BENCH_ARTICLE

    comments = f"/api/v1/articles/{BENCH_ARTICLE}/comments/"
    nonce = secrets.token_hex(4)

    def comment(n: int) -> Call:
        body = {
            "author_name": f"Reader {nonce}-{n}",
            "author_email": f"c{nonce}-{n}@bench.example.org",
            "body": f"Bench comment {nonce}-{n}: rare earth magnet supply prices policy.",
        }
        return Call("POST", comments, json.dumps(body).encode())

    def subscribe(n: int) -> Call:
        body = {"email": f"s{nonce}-{n}@bench.example.org", "consent": True}
        return Call("POST", "/api/v1/subscriptions/", json.dumps(body).encode())

    def unsubscribe(n: int) -> Call:
        path = unsubscribe_paths[n % len(unsubscribe_paths)]
        return Call(
            "POST", path, b"List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
        )

    def listed_after_change(n: int) -> Call:
        from comments.public_cache import public_list_cache_bump

        public_list_cache_bump(article_key=BENCH_ARTICLE)  # every read misses the cache
        return Call("GET", comments)

    return {
        "bare": lambda n: Call("GET", "/bench/bare"),
        "comment_post": comment,
        "comment_list": lambda n: Call("GET", comments),
        "comment_list_uncached": listed_after_change,
        "reader_page": lambda n: Call("GET", f"/articles/{BENCH_ARTICLE}/"),
        "subscribe": subscribe,
        "unsubscribe": unsubscribe,
    }


def _seed(paths_file: str, *, created: bool) -> list[str]:
    from django.core.management import call_command

    from bench import seed
    from comments.models import Article

    call_command("migrate", verbosity=0)  # a database kept from an earlier commit catches up
    if created or not Article.objects.filter(key=seed.BENCH_ARTICLE).exists():
        call_command("seed_demo", verbosity=0)
        seed.article_with_comments()
    # The database may be kept from another checkout, whose var/ held the paths.
    if created or not os.path.exists(paths_file):
        seed.unsubscribe_paths(count=2000, out=paths_file)
    with open(paths_file) as lines:
        return [line.strip() for line in lines if line.strip()]


class _Queries:
    count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


_numbers = itertools.count()


def _run(app: Any, make: Callable[[int], Call], requests: int) -> Iterator[int]:
    for n in itertools.islice(_numbers, requests):
        statuses: list[str] = []
        result = app(_environ(make(n)), partial(_start_response, statuses))
        for _chunk in result:
            pass
        result.close()
        yield int(statuses[0].split()[0])


def _start_response(statuses: list[str], status: str, headers: object, exc: object = None) -> None:
    statuses.append(status)


def write_profile(profiler: cProfile.Profile, top: int) -> None:
    """Print the ``top`` functions by own time, then by cumulative time."""
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(top)
        sys.stdout.write(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("operations", nargs="*", help="bare comment_post comment_list ...")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    database_url, created = kept_database(ADMIN_URL, DATABASE)
    _environment(database_url)
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    from bench.cli import OUT_DIR

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    paths = _seed(str(OUT_DIR / "profile-unsubscribe-paths.txt"), created=created)
    app = get_wsgi_application()
    operations = _operations(paths)
    chosen = args.operations or list(operations)
    for name in chosen:
        make = operations[name]
        list(_run(app, make, 20))  # warm: imports, connections, caches
        queries = _Queries()
        profiler = cProfile.Profile(time.process_time) if args.cprofile else None
        with connection.execute_wrapper(queries):
            started = time.process_time()
            if profiler:
                profiler.enable()
            statuses = list(_run(app, make, args.requests))
            if profiler:
                profiler.disable()
            spent = time.process_time() - started
        per = spent / args.requests * 1e6
        codes = sorted(set(statuses))
        sys.stdout.write(
            f"{name:22s} {per:8.0f} us/req  {queries.count / args.requests:5.1f} queries/req"
            f"  statuses {codes}\n"
        )
        if profiler:
            write_profile(profiler, args.top)
    import redis

    # The tasks the requests queued: nobody consumes this Redis database.
    client = redis.Redis.from_url(REDIS)
    for queue in ("moderation", "email", "bulk"):
        keys = list(client.scan_iter(match=f"{queue}*"))  # with priority suffixes
        if keys:
            client.delete(*keys)
    return 0


if __name__ == "__main__":
    sys.exit(main())
