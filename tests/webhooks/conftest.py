"""A loopback HTTP receiver for the outbound webhooks: it records every request and
answers the statuses it is told, in turn (the last one from then on)."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

SECRET = "whsec-test-secret"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str = ""
    statuses: list[int] = field(default_factory=lambda: [HTTPStatus.OK])
    requests: list[Received] = field(default_factory=list)

    def next_status(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            status = receiver.next_status()
            answer = b"ok" if status < 300 else b"receiver error"
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield found
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def webhook(settings, receiver: Receiver) -> Receiver:
    """The signed webhook and Slack both pointed at the receiver (paths tell them apart)."""
    settings.REEX_WEBHOOK_URL = f"{receiver.url}/hooks/reex"
    settings.REEX_WEBHOOK_SECRET = SECRET
    settings.REEX_SLACK_WEBHOOK_URL = f"{receiver.url}/slack/T000/B000/XXX"
    return receiver
