"""``make run``'s stack for the tests: web, worker and beat on the embedded defaults."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import cast

from devstack.base import (
    CELERY,
    MANAGE,
    PYTHON,
    Processes,
    healthy,
    inherited_env,
    printed,
)
from devstack.ports import free_port
from devstack.processes import ManagedProcess, ProcessExitedError
from devstack.services import (
    REPO,
    START_TIMEOUT,
    port_was_taken,
)

# Django's file and console mail backends end every message with this line.
MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"
SEED_DEMO = REPO / "comments" / "management" / "commands" / "seed_demo.py"


@dataclass
class DevStack(Processes):
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


@contextmanager
def running_dev_stack(
    *, tmp_dir: Path, attempts: int = 3, extra_env: dict[str, str] | None = None
) -> Iterator[DevStack]:
    """Start web, worker and beat as ``make run`` does, on a free port, in ``tmp_dir``.

    ``extra_env`` adds settings a user would set next to the defaults (e.g. the origins
    the embed runs on)."""
    started = time.monotonic()
    var_dir, log_dir = tmp_dir / "var", tmp_dir / "logs"
    var_dir.mkdir()
    log_dir.mkdir()
    # Exactly the embedded defaults: no service URLs, no test settings from pytest-env.
    env = inherited_env("SECRET_KEY", "DEBUG", "REEX_HTTPS", "REEX_BASE_URL", "REEX_VAR_DIR")
    env.update(DEBUG="1", REEX_HTTPS="0", REEX_VAR_DIR=str(var_dir), **(extra_env or {}))
    dev = DevStack(base_url="", env=env, var_dir=var_dir, log_dir=log_dir)
    with ExitStack() as setup:
        # The services touch tables only when a request or task arrives, so they boot
        # while migrate runs; seed_demo follows migrate; all are done before the yield.
        migrate = dev.start_one_off(setup, "migrate", [PYTHON, MANAGE, "migrate", "--noinput"])
        seed: ManagedProcess | None = None
        for attempt in range(1, attempts + 1):
            with ExitStack() as cleanup:
                port = free_port()
                dev.base_url = env["REEX_BASE_URL"] = f"http://127.0.0.1:{port}"
                cleanup.callback(dev.stop_all)
                web_argv = [PYTHON, MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"]
                web = dev.start_service("web", web_argv, healthy(dev.base_url))
                dev_worker = [*CELERY, "worker", "--loglevel=INFO", "--concurrency=2"]
                dev.start_service("worker", dev_worker, printed(" ready."))
                beat_argv = [*CELERY, "beat", "--loglevel=INFO"]
                dev.start_service("beat", beat_argv, printed("beat: Starting..."))
                if migrate.popen.returncode is None:
                    migrate.wait_success(timeout=START_TIMEOUT)
                    dev.mark_time("migrate", started)
                if seed is None and SEED_DEMO.exists():
                    seed = dev.start_one_off(setup, "seed_demo", [PYTHON, MANAGE, "seed_demo"])
                try:
                    dev.await_ready("web", started)
                except ProcessExitedError:
                    if attempt == attempts or not port_was_taken(web):
                        raise
                    continue  # leaving the with-block stops this attempt's services
                if seed is not None and seed.popen.returncode is None:
                    seed.wait_success(timeout=START_TIMEOUT)
                    dev.mark_time("seed_demo", started)
                dev.await_ready("worker", started)
                dev.await_ready("beat", started)
                yield dev
                return
