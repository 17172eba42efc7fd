"""The two stacks tests run against: production-shaped (``Stack``) and ``make run`` (``DevStack``).

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
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from tests.support.ports import free_port, port_is_open
from tests.support.processes import ManagedProcess, ProcessExitedError, run_command
from tests.support.services import (
    REPO,
    START_TIMEOUT,
    http_status,
    port_was_taken,
    postgres_database,
    redis_argv,
    redis_ready,
    require_program,
    start_listening,
)
from tests.support.smtp import SmtpSink
from tests.support.waiting import wait_until

T = TypeVar("T")
BIN = Path(sys.executable).parent
PYTHON = sys.executable
MANAGE = str(REPO / "manage.py")
CELERY = [str(BIN / "celery"), "-A", "reex"]
SEED_DEMO = REPO / "comments" / "management" / "commands" / "seed_demo.py"
# Service locations a developer's shell may hold; each stack sets its own (or none).
SERVICE_VARS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL")
DEFAULT_POSTGRES_URL = "postgres://root@127.0.0.1:5432/postgres"


def _inherited_env(*drop: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in (*SERVICE_VARS, *drop)}
    env["DJANGO_SETTINGS_MODULE"] = "reex.settings"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _healthy(base_url: str) -> Callable[[], bool]:
    return lambda: http_status(f"{base_url}/healthz") == HTTPStatus.OK


@dataclass
class _Processes:
    """What every stack offers: its processes, its env, manage.py and polling."""

    base_url: str
    env: dict[str, str]
    var_dir: Path
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def url(self, path: str = "/") -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def manage(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run ``manage.py`` with this stack's env; raise with its output if it fails."""
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
        """Return each process's state and the tail of its output (for failure messages)."""
        lines = []
        for name, process in self.processes.items():
            state = "running" if process.popen.poll() is None else f"exited {process.popen.poll()}"
            lines.append(
                f"--- {name} (pid {process.pid}, {state}) ---\n{process.output(limit=3000)}"
            )
        return "\n".join(lines)

    def check_running(self) -> None:
        """Raise if any process of the stack has died."""
        for process in self.processes.values():
            process.ensure_running()


@dataclass
class Stack(_Processes):
    """Production shape on loopback: PostgreSQL, Redis, gunicorn, a Celery worker, SMTP."""

    smtp: SmtpSink = field(default_factory=SmtpSink)
    database_url: str = ""
    redis_url: str = ""

    def sql(self, query: str, params: Any = ()) -> list[tuple[Any, ...]]:
        """Run one statement (autocommit) on the stack's database; return its rows, if any."""
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description is not None else []


@dataclass
class DevStack(_Processes):
    """The embedded defaults of ``make run``: SQLite, filesystem broker, file mail."""

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"


def _adopt(cleanup: ExitStack, owner: _Processes, process: ManagedProcess) -> ManagedProcess:
    owner.processes[process.name] = process
    cleanup.callback(process.stop)
    return process


def _start(
    cleanup: ExitStack, owner: _Processes, name: str, argv: list[str], *, log_dir: Path
) -> ManagedProcess:
    process = ManagedProcess.start(name=name, argv=argv, env=owner.env, cwd=REPO, log_dir=log_dir)
    return _adopt(cleanup, owner, process)


def _timed(owner: _Processes, name: str, started: float) -> None:
    owner.timings[name] = round(time.monotonic() - started, 2)


@contextmanager
def running_stack(*, tmp_dir: Path, admin_url: str | None = None) -> Iterator[Stack]:
    """Start the production-shaped stack in ``tmp_dir``; stop it and drop its database."""
    redis_server = require_program("redis-server")
    admin_url = admin_url or os.environ.get("REEX_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    started = time.monotonic()
    var_dir, log_dir = tmp_dir / "var", tmp_dir / "logs"
    var_dir.mkdir()
    log_dir.mkdir()
    with ExitStack() as cleanup:
        database_url = cleanup.enter_context(postgres_database(admin_url))
        smtp = SmtpSink()
        smtp.start()
        cleanup.callback(smtp.stop)
        env = _inherited_env()
        env.update(
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(40),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            REEX_HTTPS="0",
            EMAIL_URL=smtp.url,
            DATABASE_URL=database_url,
            REEX_COMMENT_FLOOD_SECONDS="0",
            REEX_COMMENT_RATE="0",
            REEX_SUBSCRIBE_RATE="0",
            REEX_FORM_MIN_SECONDS="0",
            REEX_VAR_DIR=str(var_dir),
        )
        stack = Stack(base_url="", env=env, var_dir=var_dir, smtp=smtp, database_url=database_url)
        start = partial(_start, cleanup, stack, log_dir=log_dir)

        redis, redis_port = start_listening(
            name="redis",
            argv=redis_argv(redis_server, var_dir=var_dir),
            ready=redis_ready,
            env=env,
            log_dir=log_dir,
        )
        _adopt(cleanup, stack, redis)
        stack.redis_url = env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        # Web and worker touch tables only when a request or task arrives, so they boot
        # while migrate runs; the stack is handed over once all of them are ready.
        migrate = start("migrate", [PYTHON, MANAGE, "migrate", "--noinput"])
        # The gunicorn master binds before it loads Django: a taken port shows at once.
        web, _ = start_listening(
            name="web",
            argv=partial(_gunicorn_argv, env),
            ready=port_is_open,
            env=env,
            log_dir=log_dir,
        )
        _adopt(cleanup, stack, web)
        stack.base_url = env["REEX_BASE_URL"]
        nodename = f"e2e-{uuid.uuid4().hex[:8]}@localhost"
        worker = start(
            "worker",
            [
                str(BIN / "celery"), "-A", "reex", "worker", "--loglevel=INFO",
                "--concurrency=2", "--without-gossip", "--without-mingle",
                f"--hostname={nodename}",
            ],
        )  # fmt: skip
        migrate.wait_success(timeout=START_TIMEOUT)
        _timed(stack, "migrate", started)
        web.wait_ready(_healthy(stack.base_url), timeout=START_TIMEOUT)
        _timed(stack, "web", started)
        worker.wait_for_output(f"{nodename} ready.", timeout=START_TIMEOUT)
        _timed(stack, "worker", started)
        yield stack


def _gunicorn_argv(env: dict[str, str], port: int) -> list[str]:
    env["REEX_BASE_URL"] = f"http://127.0.0.1:{port}"
    return [
        str(BIN / "gunicorn"), "reex.wsgi",
        "--workers", "2", "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}",
        "--timeout", "60", "--graceful-timeout", "5",
        "--access-logfile", "-", "--error-logfile", "-",
    ]  # fmt: skip


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
    dev = DevStack(base_url="", env=env, var_dir=var_dir)
    dev.manage("migrate", "--noinput")
    _timed(dev, "migrate", started)
    seed = SEED_DEMO.exists()
    for attempt in range(1, attempts + 1):
        with ExitStack() as cleanup:
            port = free_port()
            dev.base_url = env["REEX_BASE_URL"] = f"http://127.0.0.1:{port}"
            start = partial(_start, cleanup, dev, log_dir=log_dir)
            seeding = start("seed_demo", [PYTHON, MANAGE, "seed_demo"]) if seed else None
            web = start("web", [PYTHON, MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"])
            worker = start("worker", [*CELERY, "worker", "--loglevel=INFO", "--concurrency=2"])
            beat = start("beat", [*CELERY, "beat", "--loglevel=INFO"])
            try:
                web.wait_ready(_healthy(dev.base_url), timeout=START_TIMEOUT)
            except ProcessExitedError:
                if attempt == attempts or not port_was_taken(web):
                    raise
                dev.processes.clear()
                continue  # leaving the with-block stops this attempt's processes
            _timed(dev, "web", started)
            if seeding is not None:
                seeding.wait_success(timeout=START_TIMEOUT)
                _timed(dev, "seed_demo", started)
            worker.wait_for_output(" ready.", timeout=START_TIMEOUT)
            _timed(dev, "worker", started)
            beat.wait_for_output("beat: Starting...", timeout=START_TIMEOUT)
            _timed(dev, "beat", started)
            yield dev
            return
