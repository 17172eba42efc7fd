"""The production-shaped stack: PostgreSQL, Redis, gunicorn, Celery workers, an SMTP sink.

A context manager starts every process, waits (bounded) until each is ready, and on exit
(or on a failed start) stops all of them and removes what they created.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import redis
from celery import Celery

from devstack.base import (
    BIN,
    CELERY,
    DEFAULT_POSTGRES_URL,
    MANAGE,
    NO_LIMITS,
    PYTHON,
    WORK_QUEUES,
    Processes,
    Readiness,
    healthy,
    inherited_env,
    printed,
)
from devstack.ports import port_is_open
from devstack.processes import ManagedProcess
from devstack.services import (
    REPO,
    START_TIMEOUT,
    kept_database,
    postgres_database,
    redis_argv,
    redis_ready,
    require_program,
    start_listening,
)
from devstack.smtp import SmtpSink


@dataclass
class Stack(Processes):
    """Production shape on loopback: PostgreSQL, Redis, gunicorn, a Celery worker, SMTP."""

    smtp: SmtpSink = field(default_factory=SmtpSink)
    database_url: str = ""
    redis_url: str = ""
    worker_name: str = ""
    quiet: bool = False
    _celery: Celery | None = field(default=None, repr=False)

    @property
    def web(self) -> ManagedProcess:
        """The gunicorn master (its PID leads the group of web workers)."""
        return self.processes["web"]

    def sql(self, query: str, params: Any = ()) -> list[tuple[Any, ...]]:
        """Run one statement (autocommit) on the stack's database; return its rows, if any."""
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description is not None else []

    def restore(self) -> list[str]:
        restarted = [] if self.smtp.running else ["smtp"]
        self.smtp.start()
        return restarted + super().restore()

    def check_running(self) -> None:
        """Raise ``ProcessExitedError`` (with its output) if a service has died."""
        for process in self.processes.values():
            process.ensure_running()

    def start_web(self, *, name: str, **settings: str) -> tuple[ManagedProcess, str]:
        """Start one more gunicorn on the stack's env plus ``settings``; return it and its URL.

        The caller stops it; it answers once its port is open (Django may still be loading).
        """
        env = {**self.env, **settings}
        process, _ = start_listening(
            name=name,
            argv=partial(_web_argv, env, quiet=self.quiet),
            ready=port_is_open,
            env=env,
            log_dir=self.log_dir,
        )
        return process, env["REEX_BASE_URL"]

    def start_worker(self, *, name: str, concurrency: int = 1, **settings: str) -> ManagedProcess:
        """Start one more Celery worker (all queues) on the stack's env plus ``settings``.

        Return it once it is ready; the caller stops it.
        """
        nodename = f"{name}-{uuid.uuid4().hex[:6]}@localhost"
        argv = worker_argv(nodename, concurrency=concurrency, quiet=self.quiet)
        process = ManagedProcess.start(
            name=name, argv=argv, env={**self.env, **settings}, cwd=REPO, log_dir=self.log_dir
        )
        try:
            self._worker_readiness(nodename)(process, START_TIMEOUT)
        except BaseException:
            process.stop(kill=True)
            raise
        return process

    @property
    def celery(self) -> Celery:
        """A bare Celery client on the stack's broker, for remote control only."""
        if self._celery is None:
            self._celery = Celery("devstack", broker=self.redis_url)
        return self._celery

    def pause_queue(self, queue: str) -> None:
        """Make the stack's worker stop taking tasks from ``queue`` (they wait in Redis)."""
        self._control("cancel_consumer", queue)

    def resume_queue(self, queue: str) -> None:
        self._control("add_consumer", queue)

    def purge_queues(self, queues: tuple[str, ...] = WORK_QUEUES) -> None:
        """Drop every task waiting in ``queues``."""
        client = redis.Redis.from_url(self.redis_url)
        try:
            for queue in queues:
                keys = list(client.scan_iter(match=f"{queue}*"))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()

    def worker_alive(self, nodename: str | None = None) -> bool:
        """Return whether the worker (the stack's own by default) answers a ping."""
        destination = [nodename or self.worker_name]
        return bool(self.celery.control.ping(destination=destination, timeout=1))

    def _control(self, command: str, queue: str) -> None:
        replies = getattr(self.celery.control, command)(
            queue, destination=[self.worker_name], reply=True, timeout=5
        )
        if not replies:
            raise RuntimeError(f"the worker did not answer {command} {queue}")

    def _worker_readiness(self, nodename: str) -> Readiness:
        # A quiet worker logs warnings only, so it never prints its "ready." line.
        if not self.quiet:
            return printed(f"{nodename} ready.")

        def wait(process: ManagedProcess, timeout: float) -> None:
            process.wait_ready(partial(self.worker_alive, nodename), timeout=timeout)

        return wait


def gunicorn_argv(port: int, *, workers: int = 2, quiet: bool = False) -> list[str]:
    """Return the gunicorn command line of the production shape, on ``127.0.0.1:port``.

    ``quiet`` drops the access log and logs warnings only (the benchmark's choice).
    """
    logging = ["--log-level", "warning"] if quiet else ["--access-logfile", "-"]
    return [
        str(BIN / "gunicorn"), "-c", str(REPO / "reex" / "gunicorn.conf.py"), "reex.wsgi",
        "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
        "--timeout", "60", "--graceful-timeout", "5", *logging,
    ]  # fmt: skip


def worker_argv(nodename: str, *, concurrency: int = 2, quiet: bool = False) -> list[str]:
    """Return the command line of a Celery worker on every queue, named ``nodename``."""
    return [
        *CELERY, "worker", f"--loglevel={'WARNING' if quiet else 'INFO'}",
        f"--concurrency={concurrency}", "--without-gossip", "--without-mingle",
        f"--hostname={nodename}",
    ]  # fmt: skip


def _web_argv(env: dict[str, str], port: int, *, workers: int = 2, quiet: bool) -> list[str]:
    # The port is known only now (start_listening retries on another one if it was taken).
    env["REEX_BASE_URL"] = f"http://127.0.0.1:{port}"
    return gunicorn_argv(port, workers=workers, quiet=quiet)


def stack_env(*, database_url: str, email_url: str, var_dir: Path, quiet: bool) -> dict[str, str]:
    """Return the environment of the production-shaped stack's processes."""
    env = inherited_env()
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        REEX_HTTPS="0",
        EMAIL_URL=email_url,
        DATABASE_URL=database_url,
        REEX_VAR_DIR=str(var_dir),
        **NO_LIMITS,
    )
    if quiet:
        env["LOG_LEVEL"] = "WARNING"
    return env


@contextmanager
def running_stack(
    *,
    tmp_dir: Path,
    admin_url: str | None = None,
    database: str | None = None,
    web_workers: int = 2,
    worker_concurrency: int = 2,
    quiet: bool = False,
    settings: Mapping[str, str] | None = None,
    name: str = "e2e",
) -> Iterator[Stack]:
    """Start the production-shaped stack in ``tmp_dir``; stop it all on exit.

    The database is a fresh one, dropped at the end, unless ``database`` names one to
    create if missing and keep. ``settings`` adds to (or overrides) the processes' env;
    ``quiet`` keeps the logs to warnings; ``name`` prefixes the worker's node name.
    """
    redis_server = require_program("redis-server")
    admin_url = admin_url or os.environ.get("REEX_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    started = time.monotonic()
    var_dir, log_dir = tmp_dir / "var", tmp_dir / "logs"
    var_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as cleanup:
        if database is None:
            database_url = cleanup.enter_context(postgres_database(admin_url))
        else:
            database_url, _ = kept_database(admin_url, database)
        smtp = SmtpSink()
        smtp.start()
        cleanup.callback(smtp.stop)
        env = stack_env(database_url=database_url, email_url=smtp.url, var_dir=var_dir, quiet=quiet)
        env.update(settings or {})
        stack = Stack(
            base_url="",
            env=env,
            var_dir=var_dir,
            log_dir=log_dir,
            smtp=smtp,
            database_url=database_url,
            worker_name=f"{name}-{uuid.uuid4().hex[:8]}@localhost",
            quiet=quiet,
        )
        cleanup.callback(stack.stop_all)

        # From here on every service is in stack.processes, which stop_all stops together.
        redis, redis_port = start_listening(
            name="redis",
            argv=redis_argv(redis_server, var_dir=var_dir),
            ready=redis_ready,
            env=env,
            log_dir=log_dir,
        )
        stack.processes["redis"] = redis
        stack.readiness["redis"] = lambda process, timeout: process.wait_ready(
            partial(redis_ready, redis_port), timeout=timeout
        )
        stack.redis_url = env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        stack.mark_time("redis", started)
        # Web and worker touch tables only when a request or task arrives, so they boot
        # while migrate runs; the stack is handed over once all of them are ready.
        migrate = stack.start_one_off(cleanup, "migrate", [PYTHON, MANAGE, "migrate", "--noinput"])
        # The gunicorn master binds before it loads Django: a taken port shows at once.
        web, _ = start_listening(
            name="web",
            argv=partial(_web_argv, env, workers=web_workers, quiet=quiet),
            ready=port_is_open,
            env=env,
            log_dir=log_dir,
        )
        stack.base_url = env["REEX_BASE_URL"]
        stack.processes["web"] = web
        stack.readiness["web"] = healthy(stack.base_url)
        argv = worker_argv(stack.worker_name, concurrency=worker_concurrency, quiet=quiet)
        stack.start_service("worker", argv, stack._worker_readiness(stack.worker_name))
        migrate.wait_success(timeout=START_TIMEOUT)
        stack.mark_time("migrate", started)
        stack.await_ready("web", started)
        stack.await_ready("worker", started)
        yield stack
