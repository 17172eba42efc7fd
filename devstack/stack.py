"""The two stacks: production-shaped (``Stack``) and ``make run``'s (``DevStack``).

Both are context managers that start every process, wait (bounded) until each is ready,
and on exit (or on a failed start) stop all of them and remove what they created.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar, cast

import psycopg
import redis
from celery import Celery

from devstack.ports import free_port, port_is_open
from devstack.processes import ManagedProcess, ProcessExitedError, run_command, stop_all
from devstack.services import (
    REPO,
    START_TIMEOUT,
    http_status,
    kept_database,
    port_was_taken,
    postgres_database,
    redis_argv,
    redis_ready,
    require_program,
    start_listening,
)
from devstack.smtp import SmtpSink
from devstack.waiting import wait_until

T = TypeVar("T")
BIN = Path(sys.executable).parent
PYTHON = sys.executable
MANAGE = str(REPO / "manage.py")
CELERY = [str(BIN / "celery"), "-A", "reex"]
SEED_DEMO = REPO / "comments" / "management" / "commands" / "seed_demo.py"
# Service locations a developer's shell may hold; each stack sets its own (or none).
SERVICE_VARS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL")
DEFAULT_POSTGRES_URL = "postgres://root@127.0.0.1:5432/postgres"
WORK_QUEUES = ("moderation", "email", "bulk")
# Tests and the benchmark post many times from one address on purpose.
NO_LIMITS = {
    "REEX_COMMENT_FLOOD_SECONDS": "0",
    "REEX_COMMENT_RATE": "0",
    "REEX_SUBSCRIBE_RATE": "0",
    "REEX_FORM_MIN_SECONDS": "0",
}
# Django's file and console mail backends end every message with this line.
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"

Readiness = Callable[[ManagedProcess, float], None]


def _inherited_env(*drop: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in (*SERVICE_VARS, *drop)}
    env["DJANGO_SETTINGS_MODULE"] = "reex.settings"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _healthy(base_url: str) -> Readiness:
    def wait(process: ManagedProcess, timeout: float) -> None:
        process.wait_ready(
            lambda: http_status(f"{base_url}/healthz") == HTTPStatus.OK, timeout=timeout
        )

    return wait


def _printed(text: str) -> Readiness:
    def wait(process: ManagedProcess, timeout: float) -> None:
        process.wait_for_output(text, timeout=timeout)

    return wait


@dataclass
class _Processes:
    """What every stack offers: its services, its env, manage.py and polling."""

    base_url: str
    env: dict[str, str]
    var_dir: Path
    log_dir: Path
    # The long-running services by name (one-off commands like migrate are not kept).
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    # Seconds from the start of the fixture until each step was done.
    timings: dict[str, float] = field(default_factory=dict)
    _readiness: dict[str, Readiness] = field(default_factory=dict, repr=False)
    _stopped_on_purpose: set[str] = field(default_factory=set, repr=False)

    def url(self, path: str = "/") -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def manage(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run ``manage.py`` with this stack's env; raise ``CommandError`` if it fails.

        Pass ``check=False`` to get the failed ``CompletedProcess`` back instead.
        """
        return run_command(
            [PYTHON, MANAGE, *args],
            env=self.env,
            cwd=REPO,
            input=input,
            timeout=timeout,
            check=check,
        )

    def wait_until(self, fn: Callable[[], T], timeout: float = 30, interval: float = 0.1) -> T:
        """Poll ``fn()`` until truthy and return its value; ``TimeoutError`` after timeout."""
        return wait_until(fn, timeout=timeout, interval=interval, message=self.process_report)

    def process_report(self) -> str:
        """Return each service's state and the tail of its output (for failure messages)."""
        return "\n".join(process.describe() for process in self.processes.values())

    def stop_process(self, name: str, *, kill: bool = False) -> None:
        """Stop one service (``"web"``, ``"worker"``, ...) to test how the rest copes.

        By default it shuts down gracefully (SIGTERM: a Celery worker finishes its tasks);
        ``kill=True`` SIGKILLs its whole process group at once, like a crash.
        """
        self._stopped_on_purpose.add(name)
        self.processes[name].stop(kill=kill)

    def start_process(self, name: str, timeout: float = START_TIMEOUT) -> ManagedProcess:
        """Start a stopped (or dead) service again, same command and port; wait until ready."""
        process = self.processes[name]
        self._stopped_on_purpose.discard(name)
        if process.running:
            return process
        process = self.processes[name] = process.restarted()
        self._readiness[name](process, timeout)
        return process

    def restore(self) -> list[str]:
        """Start every service that is not running; warn about those that died on their own."""
        stopped = [name for name, process in self.processes.items() if not process.running]
        for name in stopped:
            if name not in self._stopped_on_purpose:
                warnings.warn(
                    f"{name} had died; restarting it. {self.processes[name].describe()}",
                    RuntimeWarning,
                    stacklevel=2,
                )
            self.start_process(name)
        return stopped

    def stop_all(self) -> None:
        stop_all(self.processes.values())

    def _service(self, name: str, argv: list[str], ready: Readiness) -> ManagedProcess:
        process = ManagedProcess.start(
            name=name, argv=argv, env=self.env, cwd=REPO, log_dir=self.log_dir
        )
        self.processes[name] = process  # stopped by stop_all
        self._readiness[name] = ready
        return process

    def _one_off(self, cleanup: ExitStack, name: str, argv: list[str]) -> ManagedProcess:
        process = ManagedProcess.start(
            name=name, argv=argv, env=self.env, cwd=REPO, log_dir=self.log_dir
        )
        cleanup.callback(process.stop)
        return process

    def _ready(self, name: str, started: float) -> None:
        self._readiness[name](self.processes[name], START_TIMEOUT)
        self._timed(name, started)

    def _timed(self, step: str, started: float) -> None:
        self.timings[step] = round(time.monotonic() - started, 2)


@dataclass
class Stack(_Processes):
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
            return _printed(f"{nodename} ready.")

        def wait(process: ManagedProcess, timeout: float) -> None:
            process.wait_ready(partial(self.worker_alive, nodename), timeout=timeout)

        return wait


@dataclass
class DevStack(_Processes):
    """The embedded defaults of ``make run``: SQLite, filesystem broker, file mail."""

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    def emails(self) -> list[EmailMessage]:
        """Return the messages the file mail backend wrote so far, oldest file first."""
        files = sorted(self.mail_dir.glob("*.log"), key=lambda path: path.stat().st_mtime_ns)
        parser = BytesParser(policy=default)
        return [
            cast(EmailMessage, parser.parsebytes(chunk.lstrip(b"\n")))
            for path in files
            for chunk in path.read_bytes().split(MAIL_SEPARATOR)
            if chunk.strip()
        ]


def gunicorn_argv(port: int, *, workers: int = 2, quiet: bool = False) -> list[str]:
    """Return the gunicorn command line of the production shape, on ``127.0.0.1:port``.

    ``quiet`` drops the access log and logs warnings only (the benchmark's choice).
    """
    logging = ["--log-level", "warning"] if quiet else ["--access-logfile", "-"]
    return [
        str(BIN / "gunicorn"), "reex.wsgi",
        "--workers", str(workers), "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}",
        "--timeout", "60", "--graceful-timeout", "5",
        "--error-logfile", "-", *logging,
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
    env = _inherited_env()
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
        stack._readiness["redis"] = lambda process, timeout: process.wait_ready(
            partial(redis_ready, redis_port), timeout=timeout
        )
        stack.redis_url = env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        stack._timed("redis", started)
        # Web and worker touch tables only when a request or task arrives, so they boot
        # while migrate runs; the stack is handed over once all of them are ready.
        migrate = stack._one_off(cleanup, "migrate", [PYTHON, MANAGE, "migrate", "--noinput"])
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
        stack._readiness["web"] = _healthy(stack.base_url)
        argv = worker_argv(stack.worker_name, concurrency=worker_concurrency, quiet=quiet)
        stack._service("worker", argv, stack._worker_readiness(stack.worker_name))
        migrate.wait_success(timeout=START_TIMEOUT)
        stack._timed("migrate", started)
        stack._ready("web", started)
        stack._ready("worker", started)
        yield stack


@contextmanager
def running_dev_stack(*, tmp_dir: Path, attempts: int = 3) -> Iterator[DevStack]:
    """Start web, worker and beat as ``make run`` does, on a free port, in ``tmp_dir``."""
    started = time.monotonic()
    var_dir, log_dir = tmp_dir / "var", tmp_dir / "logs"
    var_dir.mkdir()
    log_dir.mkdir()
    # Exactly the embedded defaults: no service URLs, no test settings from pytest-env.
    env = _inherited_env("SECRET_KEY", "DEBUG", "REEX_HTTPS", "REEX_BASE_URL", "REEX_VAR_DIR")
    env.update(DEBUG="1", REEX_HTTPS="0", REEX_VAR_DIR=str(var_dir))
    dev = DevStack(base_url="", env=env, var_dir=var_dir, log_dir=log_dir)
    with ExitStack() as setup:
        # The services touch tables only when a request or task arrives, so they boot
        # while migrate runs; seed_demo follows migrate; all are done before the yield.
        migrate = dev._one_off(setup, "migrate", [PYTHON, MANAGE, "migrate", "--noinput"])
        seed: ManagedProcess | None = None
        for attempt in range(1, attempts + 1):
            with ExitStack() as cleanup:
                port = free_port()
                dev.base_url = env["REEX_BASE_URL"] = f"http://127.0.0.1:{port}"
                cleanup.callback(dev.stop_all)
                web_argv = [PYTHON, MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"]
                web = dev._service("web", web_argv, _healthy(dev.base_url))
                dev_worker = [*CELERY, "worker", "--loglevel=INFO", "--concurrency=2"]
                dev._service("worker", dev_worker, _printed(" ready."))
                beat_argv = [*CELERY, "beat", "--loglevel=INFO"]
                dev._service("beat", beat_argv, _printed("beat: Starting..."))
                if migrate.popen.returncode is None:
                    migrate.wait_success(timeout=START_TIMEOUT)
                    dev._timed("migrate", started)
                if seed is None and SEED_DEMO.exists():
                    seed = dev._one_off(setup, "seed_demo", [PYTHON, MANAGE, "seed_demo"])
                try:
                    dev._ready("web", started)
                except ProcessExitedError:
                    if attempt == attempts or not port_was_taken(web):
                        raise
                    continue  # leaving the with-block stops this attempt's services
                if seed is not None and seed.popen.returncode is None:
                    seed.wait_success(timeout=START_TIMEOUT)
                    dev._timed("seed_demo", started)
                dev._ready("worker", started)
                dev._ready("beat", started)
                yield dev
                return
