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
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from devstack.waiting import wait_until

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
    """One child process and its log file (appended to on restart)."""

    def __init__(
        self,
        *,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_path
        self.log_path.touch()
        self.log_offset = self.log_path.stat().st_size  # this run's output starts here
        self._terminated = False
        prefix = [_SETPRIV, "--pdeathsig", "TERM", "--"] if _SETPRIV else []
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(  # noqa: S603 (argv built by the harness)
                [*prefix, *self.argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=cwd,
                start_new_session=True,
            )
        _running[self.pid] = self

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
        return cls(name=name, argv=argv, env=env, cwd=cwd, log_path=log_dir / f"{name}.log")

    def restarted(self) -> ManagedProcess:
        """Stop this process (if needed) and start the same command again."""
        self.stop()
        return ManagedProcess(
            name=self.name, argv=self.argv, env=self.env, cwd=self.cwd, log_path=self.log_path
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen.returncode is None and self._exit_status() is None

    def output(self, *, limit: int = OUTPUT_TAIL) -> str:
        """Return the tail (``limit`` characters) of what this run printed so far."""
        with self.log_path.open("rb") as log:
            log.seek(max(self.log_offset, log.seek(0, os.SEEK_END) - limit))
            return log.read().decode("utf-8", errors="replace")

    def describe(self) -> str:
        status = self.popen.returncode if self.popen.returncode is not None else self._exit_status()
        state = "running" if status is None else f"exited with status {status}"
        return f"--- {self.name} (pid {self.pid}, {state}) output:\n{self.output()}"

    def ensure_running(self) -> None:
        """Raise ``ProcessExitedError`` with the output if the process has ended."""
        if not self.running:
            raise ProcessExitedError(f"{self.name} ended unexpectedly.\n{self.describe()}")

    def wait_ready(self, probe: Callable[[], object], *, timeout: float) -> None:
        """Poll ``probe`` until truthy; fail fast if the process dies, or after ``timeout``."""

        def check() -> object:
            self.ensure_running()
            return probe()

        wait_until(check, timeout=timeout, interval=0.1, message=self.describe)

    def wait_for_output(self, text: str, *, timeout: float) -> None:
        """Wait until this run has printed ``text``."""
        self.wait_ready(lambda: text in self.output(limit=1 << 20), timeout=timeout)

    def wait_success(self, *, timeout: float) -> None:
        """Wait for a one-off process to finish; raise with its output unless it exited 0."""
        try:
            status = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired as error:
            message = f"{self.name} still running after {timeout:g}s.\n{self.describe()}"
            raise TimeoutError(message) from error
        _running.pop(self.pid, None)
        if status != 0:
            raise ProcessExitedError(f"{self.name} failed.\n{self.describe()}")

    def _exit_status(self) -> int | None:
        """Return the exit status once the process has ended, without reaping it.

        WNOWAIT leaves the zombie in place, so its PID (the group ID) cannot be reused by
        an unrelated process before ``stop`` has swept the group.
        """
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return self.popen.returncode if self.popen.returncode is not None else -1
        if info is None:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def _leader_exited(self) -> bool:
        return self._exit_status() is not None

    def terminate(self) -> None:
        """Ask the process to shut down (SIGTERM) once, without waiting."""
        if not self._terminated and self.running:
            self._terminated = True
            self.popen.send_signal(signal.SIGTERM)

    def stop(self, *, timeout: float = 10, kill: bool = False) -> None:
        """Stop the process: SIGTERM and up to ``timeout`` seconds to exit (unless ``kill``),
        then SIGKILL to whatever is left of its group, then reap it."""
        _running.pop(self.pid, None)
        if self.popen.returncode is not None:
            return
        if not kill:
            self.terminate()
            with contextlib.suppress(TimeoutError):
                wait_until(self._leader_exited, timeout=timeout, interval=0.05)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # stragglers: gunicorn or pool workers
        self.popen.wait(timeout=10)


def stop_all(processes: Iterable[ManagedProcess], *, timeout: float = 5) -> None:
    """Stop several processes at once: signal them all, then wait for each."""
    processes = list(processes)
    for process in processes:
        process.terminate()
    for process in processes:
        process.stop(timeout=timeout)


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
    result = subprocess.run(  # noqa: S603 (argv built by the harness)
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
    stop_all(list(_running.values()), timeout=3)
