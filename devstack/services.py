"""The backing services of a stack: PostgreSQL databases, Redis, servers on free ports."""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit, urlunsplit
from urllib.request import urlopen

import psycopg
import redis
from psycopg import sql
from redis.backoff import NoBackoff
from redis.retry import Retry

from devstack.ports import free_port
from devstack.processes import ManagedProcess, ProcessExitedError

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60
DATABASE_PREFIX = "reex_e2e_"
_PORT_TAKEN = ("in use", "EADDRINUSE", "That port is already in use")


class ServiceUnavailable(Exception):
    """A server or program the stack needs is missing; the message says which."""


def require_program(path: str) -> str:
    found = shutil.which(path)
    if found is None:
        raise ServiceUnavailable(f"{path} is not installed")
    return found


def http_status(url: str, *, timeout: float = 2) -> int | None:
    """Return the HTTP status of a GET, or None when nothing answers."""
    try:
        with urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback URL we built)
            return int(response.status)
    except HTTPError as error:
        return error.code
    except (URLError, OSError):
        return None


def port_was_taken(process: ManagedProcess) -> bool:
    """Return whether a server's output says another process had its port."""
    return any(marker in process.output() for marker in _PORT_TAKEN)


def fetch_json(url: str, *, timeout: float = 10) -> tuple[int, Any]:
    """GET ``url``; return its status and its body parsed as JSON (errors included)."""
    try:
        with urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback URL we built)
            return int(response.status), json.load(response)
    except HTTPError as error:
        return error.code, json.load(error)


def _database_url(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _drop_database(admin: psycopg.Connection[Any], name: str) -> None:
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_orphaned_databases(admin: psycopg.Connection[Any]) -> None:
    """Drop stack databases whose pytest process died before its teardown (killed -9)."""
    rows = admin.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{DATABASE_PREFIX}%",)
    ).fetchall()
    for (name,) in rows:
        match = re.fullmatch(rf"{DATABASE_PREFIX}(\d+)_[0-9a-f]+", name)
        if match and not _pid_alive(int(match[1])):
            _drop_database(admin, name)


def kept_database(admin_url: str, name: str, *, fresh: bool = False) -> tuple[str, bool]:
    """Return the URL of database ``name`` and whether it was created now (it was missing).

    ``fresh`` drops it first.
    """
    with _admin_connection(admin_url) as admin:
        if fresh:
            _drop_database(admin, name)
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if found is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _database_url(admin_url, name), found is None


def _admin_connection(admin_url: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        raise ServiceUnavailable(f"PostgreSQL is unreachable at {admin_url}: {error}") from error


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it (closing its sessions).

    The name carries this pytest process's PID, so a later run can tell a database left
    by a killed run from one that a concurrent run still uses.
    """
    admin = _admin_connection(admin_url)
    name = f"{DATABASE_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin:
        _drop_orphaned_databases(admin)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _database_url(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as admin:
            _drop_database(admin, name)


def start_listening(
    *,
    name: str,
    argv: Callable[[int], Sequence[str]],
    ready: Callable[[int], object],
    env: dict[str, str],
    log_dir: Path,
    timeout: float = START_TIMEOUT,
    attempts: int = 3,
) -> tuple[ManagedProcess, int]:
    """Start a server on a free port, retrying on another port if that one was taken."""
    for attempt in range(1, attempts + 1):
        port = free_port()
        process = ManagedProcess.start(
            name=name, argv=argv(port), env=env, cwd=REPO, log_dir=log_dir
        )
        try:
            process.wait_ready(partial(ready, port), timeout=timeout)
        except ProcessExitedError:
            process.stop()
            if not port_was_taken(process) or attempt == attempts:
                raise
            continue
        except BaseException:
            process.stop()
            raise
        return process, port
    raise AssertionError("unreachable")


def redis_argv(executable: str, *, var_dir: Path) -> Callable[[int], list[str]]:
    def argv(port: int) -> list[str]:
        return [
            executable,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(var_dir),
            "--daemonize", "no",
        ]  # fmt: skip

    return argv


def redis_ready(port: int) -> bool:
    """Return whether a Redis server answers PING on the port within about a second."""
    # redis-py retries a timed-out command for ~15 s by default: too long for one probe.
    client = redis.Redis(
        host="127.0.0.1",
        port=port,
        socket_timeout=1,
        socket_connect_timeout=1,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        return bool(client.ping())
    except redis.exceptions.RedisError:
        return False
    finally:
        client.close()
