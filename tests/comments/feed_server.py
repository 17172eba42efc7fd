"""A real HTTP server on 127.0.0.1 (random port, own thread) serving feeds to the poller.

Each path answers as its ``Route`` says, honouring conditional GETs like a WordPress site
behind a cache: 304 when If-None-Match or If-Modified-Since matches. Every request's
headers are kept for the tests to read.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = HTTPStatus.OK
    content_type: str = "application/rss+xml; charset=UTF-8"
    etag: str = ""
    last_modified: str = ""
    # Seconds to wait before answering (a slow server).
    delay: float = 0.0
    # Seconds between 100-byte pieces of the body (a server that drips it).
    drip: float = 0.0
    # Send the body gzip-compressed (Content-Encoding: gzip).
    gzip: bool = False


@dataclass
class FeedServer:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str, headers: dict[str, str]) -> tuple[Route, bool]:
        """Return the route and whether the request's validators still match it."""
        self.requests.append({"path": path, **headers})
        route = self.routes.get(path, Route(status=HTTPStatus.NOT_FOUND))
        matches = (route.etag and headers.get("if-none-match") == route.etag) or (
            route.last_modified and headers.get("if-modified-since") == route.last_modified
        )
        return route, bool(matches)


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = {name.lower(): value for name, value in self.headers.items()}
            route, not_modified = server.answer(self.path, headers)
            time.sleep(route.delay)
            self.send_response(HTTPStatus.NOT_MODIFIED if not_modified else route.status)
            if route.etag:
                self.send_header("ETag", route.etag)
            if route.last_modified:
                self.send_header("Last-Modified", route.last_modified)
            body = b"" if not_modified else route.body
            if route.gzip:
                body = gzip.compress(body)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self._write(body, drip=route.drip)

        def _write(self, body: bytes, *, drip: float) -> None:
            if not drip:
                self.wfile.write(body)
                return
            for start in range(0, len(body), 100):
                self.wfile.write(body[start : start + 100])
                self.wfile.flush()
                time.sleep(drip)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    """Serve until the block ends; stop the thread and close the socket."""
    server = FeedServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
