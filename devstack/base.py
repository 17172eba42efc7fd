"""What both stacks share: the processes they run from this checkout and how they wait."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import TypeVar

from devstack.processes import ManagedProcess, run_command, stop_all
from devstack.services import (
    REPO,
    START_TIMEOUT,
    http_status,
)
from devstack.waiting import wait_until

T = TypeVar("T")
BIN = Path(sys.executable).parent
PYTHON = sys.executable
MANAGE = str(REPO / "manage.py")
CELERY = [str(BIN / "celery"), "-A", "reex"]
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

Readiness = Callable[[ManagedProcess, float], None]


def inherited_env(*drop: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in (*SERVICE_VARS, *drop)}
    env["DJANGO_SETTINGS_MODULE"] = "reex.settings"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def healthy(base_url: str) -> Readiness:
    def wait(process: ManagedProcess, timeout: float) -> None:
        process.wait_ready(
            lambda: http_status(f"{base_url}/healthz") == HTTPStatus.OK, timeout=timeout
        )

    return wait


def printed(text: str) -> Readiness:
    def wait(process: ManagedProcess, timeout: float) -> None:
        process.wait_for_output(text, timeout=timeout)

    return wait


@dataclass
class Processes:
    """What every stack offers: its services, its env, manage.py and polling."""

    base_url: str
    env: dict[str, str]
    var_dir: Path
    log_dir: Path
    # The long-running services by name (one-off commands like migrate are not kept).
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    # Seconds from the start of the fixture until each step was done.
    timings: dict[str, float] = field(default_factory=dict)
    readiness: dict[str, Readiness] = field(default_factory=dict, repr=False)
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
        self.readiness[name](process, timeout)
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

    def start_service(self, name: str, argv: list[str], ready: Readiness) -> ManagedProcess:
        process = ManagedProcess.start(
            name=name, argv=argv, env=self.env, cwd=REPO, log_dir=self.log_dir
        )
        self.processes[name] = process  # stopped by stop_all
        self.readiness[name] = ready
        return process

    def start_one_off(self, cleanup: ExitStack, name: str, argv: list[str]) -> ManagedProcess:
        process = ManagedProcess.start(
            name=name, argv=argv, env=self.env, cwd=REPO, log_dir=self.log_dir
        )
        cleanup.callback(process.stop)
        return process

    def await_ready(self, name: str, started: float) -> None:
        self.readiness[name](self.processes[name], START_TIMEOUT)
        self.mark_time(name, started)

    def mark_time(self, step: str, started: float) -> None:
        self.timings[step] = round(time.monotonic() - started, 2)
