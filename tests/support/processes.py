"""Child processes that are always stopped: by PID and process group, with bounded waits.

Each process starts in its own session (so its group holds its children: gunicorn and
Celery pool workers) with its output in a log file (never a pipe that could fill up).
Where util-linux ``setpriv`` exists the child also gets SIGTERM if pytest itself dies, and
an ``atexit`` hook stops whatever a crashed fixture left behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from tests.support.waiting import wait_until

OUTPUT_TAIL = 6000
_SETPRIV = shutil.which("setpriv")
_running: dict[int, ManagedProcess] = {}


class ProcessExitedError(RuntimeError):
    """A managed process ended while it was expected to run."""


class CommandError(subprocess.CalledProcessError):
    """A one-off command failed; the message carries its output."""

    def __str__(self) -> str:
        return f"{super().__str__()}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"


class ManagedProcess:
    """One long-running child process and its log file."""

    def __init__(self, *, name: str, popen: subprocess.Popen[bytes], log_path: Path) -> None:
        self.name = name
        self.popen = popen
        self.log_path = log_path

    @classmethod
    def start(
        cls,
        *,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path,
        log_dir: Path,
    ) -> ManagedProcess:
        log_path = log_dir / f"{name}.log"
        prefix = [_SETPRIV, "--pdeathsig", "TERM", "--"] if _SETPRIV else []
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [*prefix, *argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
            )
        process = cls(name=name, popen=popen, log_path=log_path)
        _running[popen.pid] = process
        return process

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self, *, limit: int = OUTPUT_TAIL) -> str:
        """Return the tail of everything the process printed so far."""
        try:
            data = self.log_path.read_bytes()
        except FileNotFoundError:
            return ""
        return data[-limit:].decode("utf-8", errors="replace")

    def describe(self) -> str:
        return f"{self.name} (pid {self.pid}) output:\n{self.output()}"

    def _leader_exited(self) -> bool:
        # WNOWAIT leaves the zombie in place, so the PID (and the group ID) cannot be
        # reused by an unrelated process before the group has been swept.
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def ensure_running(self) -> None:
        """Raise ``ProcessExitedError`` with the output if the process has ended."""
        if self.popen.poll() is not None:
            raise ProcessExitedError(
                f"{self.name} exited with status {self.popen.returncode}. {self.describe()}"
            )

    def wait_ready(self, probe: Callable[[], object], *, timeout: float) -> None:
        """Poll ``probe`` until truthy; fail fast if the process dies, or after ``timeout``."""

        def check() -> object:
            self.ensure_running()
            return probe()

        wait_until(check, timeout=timeout, interval=0.1, message=self.describe)

    def wait_for_output(self, text: str, *, timeout: float) -> None:
        self.wait_ready(lambda: text in self.output(limit=1 << 20), timeout=timeout)

    def wait_success(self, *, timeout: float) -> None:
        """Wait for a one-off process to finish; raise with its output unless it exited 0."""
        try:
            status = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired as error:
            message = f"{self.name} still running after {timeout:g}s. {self.describe()}"
            raise TimeoutError(message) from error
        _running.pop(self.pid, None)
        if status != 0:
            raise ProcessExitedError(f"{self.name} exited with status {status}. {self.describe()}")

    def stop(self, *, timeout: float = 10) -> None:
        """Stop the process gently (SIGTERM), then kill its whole group, then reap it."""
        _running.pop(self.pid, None)
        if self.popen.returncode is not None:
            return
        if not self._leader_exited():
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                wait_until(self._leader_exited, timeout=timeout, interval=0.05)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # stragglers: gunicorn or pool workers
        self.popen.wait(timeout=10)


def run_command(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    input: str | None = None,
    timeout: float = 120,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a one-off command to completion; raise ``CommandError`` (with output) on failure."""
    result = subprocess.run(
        list(argv),
        env=dict(env),
        cwd=cwd,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise CommandError(result.returncode, result.args, result.stdout, result.stderr)
    return result


@atexit.register
def _stop_leftovers() -> None:
    for process in list(_running.values()):
        process.stop(timeout=3)
