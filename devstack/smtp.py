"""An SMTP server on loopback that keeps every message it receives, for assertions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from typing import TYPE_CHECKING, Any

from devstack.ports import free_port
from devstack.services import ServiceUnavailable

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller


class _Collector:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Kept raw and parsed when read: parsing costs the sender's CPU on a shared machine.
        raw = envelope.original_content
        self.sink._receive(raw, mail_from=envelope.mail_from, rcpt_tos=envelope.rcpt_tos)
        return "250 Message accepted for delivery"


class SmtpSink:
    """aiosmtpd in a thread on ``127.0.0.1:port``; ``stop()``/``start()`` keep the port."""

    def __init__(self, *, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._raw: list[bytes] = []
        self._parsed: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None
        # Off: messages are counted (envelopes) but not kept, for sends of 100,000.
        self.keep_messages = True
        self.last_raw = b""

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Listen again on the same port (a no-op while running)."""
        if self._controller is not None:
            return
        try:
            from aiosmtpd.controller import Controller
        except ImportError as error:
            raise ServiceUnavailable("aiosmtpd is not installed") from error
        controller = Controller(
            _Collector(self),
            hostname=self.host,
            port=self.port,
            ready_timeout=10,
            enable_SMTPUTF8=True,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stop listening: connections are refused until ``start()``."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        """Every message received so far, oldest first (a copy)."""
        with self._lock:
            for raw in self._raw[len(self._parsed) :]:
                message = BytesParser(policy=default).parsebytes(raw)
                assert isinstance(message, EmailMessage)
                self._parsed.append(message)
            return list(self._parsed)

    def clear(self) -> None:
        with self._lock:
            self._raw.clear()
            self._parsed.clear()
            self.envelopes.clear()

    def _receive(self, raw: bytes, *, mail_from: str, rcpt_tos: list[str]) -> None:
        with self._lock:
            if self.keep_messages:
                self._raw.append(raw)
            self.last_raw = raw
            self.envelopes.append((mail_from, list(rcpt_tos)))

    def find(self, predicate: Callable[[EmailMessage], object]) -> EmailMessage | None:
        """Return the first message received so far that matches ``predicate``."""
        received = self.messages
        return next((message for message in received if predicate(message)), None)

    def wait_for(
        self, predicate: Callable[[EmailMessage], object], timeout: float = 30
    ) -> EmailMessage:
        """Return the first (oldest) message matching ``predicate``, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while (found := self.find(predicate)) is None:
            if time.monotonic() >= deadline:
                seen = [(m["To"], m["Subject"]) for m in self.messages]
                raise TimeoutError(
                    f"no matching email within {timeout:g}s; received (To, Subject): {seen}"
                )
            time.sleep(0.05)
        return found
