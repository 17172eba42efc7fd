"""One email connection a worker process keeps open from one sending task to the next.

Outside a worker (``connection_keep`` never turned on) every take opens a new connection
and every give-back closes it.
"""

import contextlib
import smtplib
import time
from dataclasses import dataclass

from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend

# Mail servers drop idle clients after a minute or more: an older connection is replaced.
KEPT_CONNECTION_IDLE_SECONDS = 30.0


@dataclass
class _Kept:
    enabled: bool = False
    backend: BaseEmailBackend | None = None
    last_used: float = 0.0


_kept = _Kept()


def connection_keep(*, enabled: bool) -> None:
    """Turn keeping on (a worker process starts) or off, closing the kept connection."""
    _kept.enabled = enabled
    if not enabled:
        backend, _kept.backend = _kept.backend, None
        _close(backend)


def connection_take() -> BaseEmailBackend:
    """Return the kept connection when it is fresh and alive, else a new one."""
    backend = _kept.backend if _kept.enabled else None
    _kept.backend = None  # held by the caller until connection_give_back
    fresh = time.monotonic() - _kept.last_used < KEPT_CONNECTION_IDLE_SECONDS
    if backend is not None and fresh and _alive(backend):
        return backend
    _close(backend)
    return get_connection(fail_silently=False)


def connection_give_back(backend: BaseEmailBackend, *, healthy: bool) -> None:
    """Keep the connection for the next task, or close it (after an error, or not kept)."""
    if _kept.enabled and healthy and _kept.backend is None:
        _kept.backend, _kept.last_used = backend, time.monotonic()
    else:
        _close(backend)


def _close(backend: BaseEmailBackend | None) -> None:
    if backend is not None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            backend.close()


def _alive(backend: BaseEmailBackend) -> bool:
    smtp = getattr(backend, "connection", None)
    if smtp is None:  # never opened, or a backend without a socket (file, memory)
        return True
    try:
        return bool(smtp.noop()[0] == 250)
    except (smtplib.SMTPException, OSError):
        return False
