"""A news site on another origin (another port) that embeds reex under a strict CSP.

Its pages allow scripts, styles and connections from the reex origin only, and nothing
inline: what a careful site would send. ``/article/<key>/`` holds the comments placeholder,
the sign-up box and a count; ``?include=1`` includes the server-rendered thread inside the
placeholder, ``?far=1`` puts the comments far below the fold.
"""

from __future__ import annotations

import html
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class HostSite:
    origin: str
    reex_origin: str = ""
    requests: list[str] = field(default_factory=list)

    def policy(self) -> str:
        reex = self.reex_origin
        return (
            f"default-src 'none'; script-src {reex}; style-src {reex}; connect-src {reex}; "
            "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )

    def article_url(self, key: str, *, slug: str = "", **query: str) -> str:
        path = f"/article/{key}/{slug + '/' if slug else ''}"
        params = "&".join(f"{k}={v}" for k, v in query.items())
        return self.origin + path + (f"?{params}" if params else "")

    def page(self, path: str, query: dict[str, list[str]]) -> str:
        key = path.strip("/").split("/")[1]
        page_url = self.origin + path
        included = ""
        if query.get("include"):
            fragment = f"{self.reex_origin}/embed/articles/{key}/comments.html"
            with urllib.request.urlopen(fragment, timeout=10) as answer:  # noqa: S310 (loopback)
                included = answer.read().decode()
        spacer = "<p>Filler paragraph.</p>" * (300 if query.get("far") else 0)
        return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Host article {html.escape(key)}</title>
<script src="{self.reex_origin}/embed.js" defer></script>
</head>
<body>
<h1>Host article {html.escape(key)}</h1>
<p><a href="#top">Back to top</a> · <span data-reex-count="{html.escape(key)}">Comments</span></p>
<div data-reex-subscribe="daily"></div>
{spacer}
<div data-reex-comments="{html.escape(key)}" data-reex-url="{html.escape(page_url)}"
     data-reex-title="A title the browser claims">{included}</div>
</body>
</html>"""


def _handler(site: HostSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            split = urlsplit(self.path)
            site.requests.append(split.path)
            if not split.path.startswith("/article/"):
                self.send_response(204 if split.path == "/favicon.ico" else 404)
                self.end_headers()
                return
            body = site.page(split.path, parse_qs(split.query)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", site.policy())
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def running_host_site() -> Iterator[HostSite]:
    """Serve the host site on a free loopback port in a thread, until the block ends."""
    site = HostSite(origin="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    site.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
