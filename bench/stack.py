"""The production shape on loopback for the benchmark, started and always stopped.

It reuses the test harness's pieces (``tests/support``) but tunes what would distort the
figures: gunicorn writes no access log and Celery logs warnings only.
"""

from __future__ import annotations

import os
import secrets
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from celery import Celery
from psycopg import sql

from tests.support.ports import port_is_open
from tests.support.processes import ManagedProcess, run_command
from tests.support.services import (
    REPO,
    http_status,
    postgres_database,
    redis_argv,
    redis_ready,
    require_program,
    start_listening,
)
from tests.support.smtp import SmtpSink

BIN = Path(sys.executable).parent
PYTHON = sys.executable
MANAGE = str(REPO / "manage.py")
START_TIMEOUT = 90
DEFAULT_POSTGRES_URL = "postgres://root@127.0.0.1:5432/postgres"
SERVICE_VARS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL")
WORK_QUEUES = ("moderation", "email", "bulk")
ADMIN_URL = os.environ.get("REEX_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@dataclass
class BenchStack:
    """Handles on the running stack: URLs, env, the web master's PID, the SMTP sink."""

    env: dict[str, str]
    smtp: SmtpSink
    database_url: str
    redis_url: str = ""
    base_url: str = ""
    web: ManagedProcess | None = None
    worker_name: str = ""
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    _celery: Celery | None = None

    def manage(self, *args: str, timeout: float = 300) -> str:
        """Run ``manage.py`` against the stack; return its stdout, raise with output on failure."""
        argv = [PYTHON, MANAGE, *args]
        return run_command(argv, env=self.env, cwd=REPO, timeout=timeout).stdout

    def sql(self, query: str, params: Any = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description is not None else []

    @property
    def celery(self) -> Celery:
        """A bare Celery client on the stack's broker, for remote control only."""
        if self._celery is None:
            self._celery = Celery("bench", broker=self.redis_url)
        return self._celery

    def pause_queue(self, queue: str) -> None:
        """Make the worker stop taking tasks from ``queue`` (they wait in Redis)."""
        self._control("cancel_consumer", queue)

    def resume_queue(self, queue: str) -> None:
        self._control("add_consumer", queue)

    def _control(self, command: str, queue: str) -> None:
        replies = getattr(self.celery.control, command)(
            queue, destination=[self.worker_name], reply=True, timeout=5
        )
        if not replies:
            raise RuntimeError(f"the worker did not answer {command} {queue}")

    def purge_queues(self, queues: tuple[str, ...] = WORK_QUEUES) -> None:
        """Drop every task waiting in ``queues`` (left over from the web rounds)."""
        import redis

        client = redis.Redis.from_url(self.redis_url)
        for queue in queues:
            keys = list(client.scan_iter(match=f"{queue}*"))
            if keys:
                client.delete(*keys)

    def worker_alive(self) -> bool:
        replies = self.celery.control.ping(destination=[self.worker_name], timeout=1)
        return bool(replies)

    def check_running(self) -> None:
        for process in self.processes.values():
            process.ensure_running()


def kept_database(name: str, *, fresh: bool = False) -> str:
    """Return the URL of database ``name``, created if missing (dropped first if ``fresh``)."""
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        if fresh:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if found is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))


def _base_env(*, database_url: str, smtp: SmtpSink, var_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_VARS}
    env.update(
        DJANGO_SETTINGS_MODULE="reex.settings",
        PYTHONUNBUFFERED="1",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        REEX_HTTPS="0",
        EMAIL_URL=smtp.url,
        DATABASE_URL=database_url,
        REEX_VAR_DIR=str(var_dir),
        LOG_LEVEL="WARNING",
        # Every bench request is a new author: no duplicate, flood or throttle answers.
        REEX_COMMENT_FLOOD_SECONDS="0",
        REEX_COMMENT_RATE="0",
        REEX_SUBSCRIBE_RATE="0",
        REEX_FORM_MIN_SECONDS="0",
        REEX_CONFIRMATION_COOLDOWN_SECONDS="0",
    )
    return env


def _gunicorn_argv(env: dict[str, str], port: int) -> list[str]:
    env["REEX_BASE_URL"] = f"http://127.0.0.1:{port}"
    return [
        str(BIN / "gunicorn"), "reex.wsgi",
        "--workers", "2", "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}",
        "--timeout", "60", "--graceful-timeout", "5",
        "--error-logfile", "-", "--log-level", "warning",
    ]  # fmt: skip


@contextmanager
def running_bench_stack(*, work_dir: Path, database: str | None = None) -> Iterator[BenchStack]:
    """Start PostgreSQL database, Redis, SMTP sink, gunicorn and a Celery worker; stop all.

    The database is a fresh one, dropped at the end, unless ``database`` names one to
    create if missing and keep (the scale benchmark's million rows).
    """
    redis_server = require_program("redis-server")
    var_dir, log_dir = work_dir / "var", work_dir / "logs"
    var_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as cleanup:
        if database is None:
            database_url = cleanup.enter_context(postgres_database(ADMIN_URL))
        else:
            database_url = kept_database(database)
        smtp = SmtpSink()
        smtp.start()
        cleanup.callback(smtp.stop)
        env = _base_env(database_url=database_url, smtp=smtp, var_dir=var_dir)
        stack = BenchStack(env=env, smtp=smtp, database_url=database_url)

        def adopt(process: ManagedProcess) -> ManagedProcess:
            stack.processes[process.name] = process
            cleanup.callback(process.stop)
            return process

        listen = partial(start_listening, env=env, log_dir=log_dir)
        redis, redis_port = listen(
            name="redis", argv=redis_argv(redis_server, var_dir=var_dir), ready=redis_ready
        )
        adopt(redis)
        stack.redis_url = env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        # Web and worker touch tables only when a request or task arrives: they boot
        # while migrate runs.
        migrate = adopt(
            ManagedProcess.start(
                name="migrate",
                argv=[PYTHON, MANAGE, "migrate", "--noinput"],
                env=env,
                cwd=REPO,
                log_dir=log_dir,
            )
        )
        web, _ = listen(name="web", argv=partial(_gunicorn_argv, env), ready=port_is_open)
        stack.web = adopt(web)
        stack.base_url = env["REEX_BASE_URL"]
        stack.worker_name = f"bench-{uuid.uuid4().hex[:8]}@localhost"
        worker_argv = [
            str(BIN / "celery"), "-A", "reex", "worker", "--loglevel=WARNING",
            "--concurrency=2", "--without-gossip", "--without-mingle",
            f"--hostname={stack.worker_name}",
        ]  # fmt: skip
        worker = ManagedProcess.start(
            name="worker", argv=worker_argv, env=env, cwd=REPO, log_dir=log_dir
        )
        adopt(worker)
        migrate.wait_success(timeout=START_TIMEOUT)
        stack.processes.pop("migrate")
        healthy = partial(http_status, f"{stack.base_url}/healthz")
        web.wait_ready(lambda: healthy() == HTTPStatus.OK, timeout=START_TIMEOUT)
        worker.wait_ready(stack.worker_alive, timeout=START_TIMEOUT)
        yield stack
