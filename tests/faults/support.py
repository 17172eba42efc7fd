"""What the fault-injection tests add to the e2e stack: an extra web process with its own
env, a TCP proxy that can cut the database off, a stalling Akismet, HTTP calls."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devstack.services import http_status
from devstack.stack import Stack

SETUP_ARTICLE = """
from django.contrib.auth.models import Group, User
from django.utils import timezone
from comments.models import ModerationWord
from comments.services import article_upsert

article_upsert(key={key!r}, title={title!r}, url="", published_at=timezone.now(),
               comments_open=True)
ModerationWord.objects.get_or_create(phrase={hold!r}, action="hold")
user, _ = User.objects.get_or_create(username={user!r},
                                     defaults={{"email": {email!r}, "is_staff": True}})
user.groups.add(Group.objects.get(name="Moderators"))
"""


def new_article(stack: Stack, *, prefix: str = "faults", title: str = "Faults") -> dict[str, str]:
    """Create an open article, a hold word and a moderator (who gets held comments' mail)."""
    tag = uuid.uuid4().hex[:8]
    names = {
        "key": f"{prefix}-{tag}",
        "title": f"{title} {tag}",
        "hold": f"holdword{tag}",
        "user": f"mod-{tag}",
        "email": f"mod-{tag}@example.org",
    }
    stack.manage("shell", "-c", SETUP_ARTICLE.format(**names))
    return names


def call(
    url: str,
    *,
    payload: dict[str, Any] | None = None,
    timeout: float = 15,
    headers: dict[str, str] | None = None,
) -> tuple[int, str, str]:
    """GET (or POST ``payload`` as JSON); return status, content type and body text."""
    data = None if payload is None else json.dumps(payload).encode()
    sent = {"Content-Type": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data=data, headers={**sent, **(headers or {})})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.headers.get("Content-Type", ""), _text(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), _text(error)


def _text(response: Any) -> str:
    return bytes(response.read()).decode("utf-8", errors="replace")


@contextmanager
def extra_web(stack: Stack, *, name: str, **settings: str) -> Iterator[str]:
    """Run one more gunicorn on the stack's env plus ``settings``; yield its base URL."""
    process, base_url = stack.start_web(name=name, **settings)
    try:
        process.wait_ready(lambda: http_status(f"{base_url}/healthz") is not None, timeout=60)
        yield base_url
    finally:
        process.stop()


class TcpProxy:
    """Forward a loopback port to another; ``stop`` refuses new connections and cuts the
    open ones, as a database host that went away does."""

    def __init__(self, *, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.start()

    def start(self) -> None:
        """Listen (again, on the same port after a ``stop``)."""
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def stop(self) -> None:
        if self._listener is not None:
            # shutdown wakes the thread blocked in accept(); close alone would not.
            with suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            self._close(sock)


class StallingAkismet:
    """A loopback Akismet whose comment-check answers 'ham', but holds the first request
    until ``release`` (so a worker can be killed in the middle of the task)."""

    def __init__(self) -> None:
        self.checks: list[str] = []
        self.first_arrived = threading.Event()
        self._release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                if self.path.endswith("/comment-check"):
                    owner.checks.append(body)
                    if len(owner.checks) == 1:
                        owner.first_arrived.set()
                        owner._release.wait(timeout=60)
                answer = b"valid" if self.path.endswith("verify-key") else b"false"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
