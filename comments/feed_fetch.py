"""Fetching a feed over HTTP: a conditional GET, bounded in time and in size.

The only network code of the feed poller, so that tests can serve real HTTP to it.
"""

import time
from dataclasses import dataclass
from http import HTTPStatus

import httpx
from django.conf import settings

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"


class FeedFetchError(Exception):
    """The feed could not be fetched this time (network, timeout, HTTP status, size)."""


@dataclass(frozen=True)
class FeedResponse:
    """A fetched feed: where from (after redirects), its bytes and the validators for the
    next conditional GET.

    ``not_modified`` means the server answered 304: ``content`` is empty.
    """

    url: str
    content: bytes
    content_type: str
    etag: str
    modified: str
    not_modified: bool = False


def _request_headers(*, etag: str, modified: str) -> dict[str, str]:
    headers = {
        "Accept": ACCEPT,
        "User-Agent": f"reex-feed-poller (+{settings.REEX_BASE_URL})",
    }
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    return headers


def _read_bounded(response: httpx.Response, *, deadline: float, max_bytes: int) -> bytes:
    """Return the body; refuse one larger than ``max_bytes`` or slower than the deadline.

    httpx's timeout bounds each read, not the whole: a server dripping a byte a second
    would otherwise hold the worker for as long as it likes.
    """
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FeedFetchError(f"larger than {max_bytes} bytes, not read further")
        if time.monotonic() > deadline:
            raise FeedFetchError("timed out while reading the body")
        chunks.append(chunk)
    return b"".join(chunks)


def feed_fetch(*, url: str, etag: str = "", modified: str = "") -> FeedResponse:
    """GET ``url`` with the stored validators; raise FeedFetchError on any failure."""
    timeout = settings.REEX_FEED_TIMEOUT_SECONDS
    deadline = time.monotonic() + timeout
    headers = _request_headers(etag=etag, modified=modified)
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=5) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == HTTPStatus.NOT_MODIFIED:
                return FeedResponse(url, b"", "", etag, modified, not_modified=True)
            if response.status_code != HTTPStatus.OK:
                raise FeedFetchError(f"HTTP {response.status_code}")
            content = _read_bounded(
                response, deadline=deadline, max_bytes=settings.REEX_FEED_MAX_BYTES
            )
            return FeedResponse(
                url=str(response.url),
                content=content,
                content_type=response.headers.get("Content-Type", ""),
                etag=response.headers.get("ETag", ""),
                modified=response.headers.get("Last-Modified", ""),
            )
    except httpx.TimeoutException as error:
        raise FeedFetchError(f"timed out after {timeout:g} s ({type(error).__name__})") from error
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise FeedFetchError(f"{type(error).__name__}: {error}") from error
