"""The per-article cache of the public comment list and the pages made from it.

A page (the API's first page, the reader page, the embed fragment) is cached as its
encoded body behind a one-line header: the article's version when it was computed and
the time it was stored. A change to the approved set (services) sets a new version after
commit, so the next read misses. The version is read before the database, so a page
computed from rows that changed under it carries the old version and is never current.
A hit is one round trip (version and page together) and no serialisation but the bytes.

One render per change: the reader who misses takes a short lock (``cache.add``) and
renders; the readers who miss while it is held get the previous body instead of
rendering the same page again (stale while revalidate). So a change shows in every read
that starts after it committed, except reads made while its page is being re-rendered:
for the render's time (milliseconds), never longer than ``RENDER_LOCK_SECONDS``, they get
the previous body. A page is current for ``PUBLIC_LIST_CACHE_SECONDS`` at most, which
bounds staleness for writes that do not go through the services (bulk admin or privacy
updates); the previous body is kept longer only to serve during a re-render.
"""

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

PUBLIC_LIST_CACHE_SECONDS = 60
# A body no longer current is kept this long, to serve while its page is re-rendered.
STALE_KEEP_SECONDS = 600
# The longest a re-render holds the others to the previous body (a crashed one included).
RENDER_LOCK_SECONDS = 2


@dataclass(frozen=True)
class CachedPage:
    """What a read of the cache found: the body if current, the version to store a render
    under, and the previous body (any version, if kept) to serve during a re-render."""

    body: bytes | None
    version: str
    previous: bytes | None = None


def _version_key(article_key: str) -> str:
    return f"comments:public:version:{article_key}"


def _page_key(article_key: str, url: str) -> str:
    digest = hashlib.blake2b(url.encode(), digest_size=12).hexdigest()
    return f"comments:public:page:{article_key}:{digest}"


def _lock_key(page_key: str) -> str:
    return page_key.replace(":page:", ":rendering:", 1)


def _parsed(stored: object) -> tuple[str, float, bytes] | None:
    """Return the version, storage time and body of a stored page, or None if not one."""
    if not isinstance(stored, bytes):
        return None
    head, newline, body = stored.partition(b"\n")
    version, _, stored_at = head.partition(b" ")
    if not newline or not stored_at.isdigit():
        return None
    return version.decode("ascii"), int(stored_at), body


def _values(keys: list[str]) -> list[Any]:
    """The cached values of ``keys`` in one round trip (None where missing)."""
    get_values = getattr(cache, "get_values", None)  # reex.cache's Redis backend
    if get_values is not None:
        return list(get_values(keys))
    found = cache.get_many(keys)
    return [found.get(key) for key in keys]


def public_list_cached(*, article_key: str, url: str, now: float | None = None) -> CachedPage:
    """Return the cached body of the page at ``url`` if it is of the current version."""
    version_key, page_key = _version_key(article_key), _page_key(article_key, url)
    current_version, stored_page = _values([version_key, page_key])
    version: str = current_version or "0"
    page = _parsed(stored_page)
    if page is None:
        return CachedPage(body=None, version=version)
    stored_version, stored_at, body = page
    current = (time.time() if now is None else now) - stored_at < PUBLIC_LIST_CACHE_SECONDS
    if stored_version == version and current:
        return CachedPage(body=body, version=version)
    return CachedPage(body=None, version=version, previous=body)


def public_list_cache_store(
    *, article_key: str, url: str, version: str, body: bytes, now: float | None = None
) -> None:
    """Cache the body of the page at ``url``, computed from the data of ``version``."""
    stored_at = int(time.time() if now is None else now)
    head = f"{version} {stored_at}\n".encode("ascii")
    cache.set(_page_key(article_key, url), head + body, timeout=STALE_KEEP_SECONDS)


def public_list_cache_bump(*, article_key: str) -> None:
    """Make every cached page of the article's public list stale."""
    cache.set(_version_key(article_key), uuid.uuid4().hex, timeout=None)


def public_list_first_page(*, article_key: str, url: str, render: Callable[[], bytes]) -> bytes:
    """Return the body of the public list's page at ``url``: cached while current, else
    ``render()`` stored under the version read before it ran; while another request is
    rendering it, the previous body."""
    cached = public_list_cached(article_key=article_key, url=url)
    if cached.body is not None:
        return cached.body
    if cached.previous is None:  # nothing to serve meanwhile: render (a cold page)
        return _render_and_store(article_key, url, cached.version, render)
    lock = _lock_key(_page_key(article_key, url))
    if not cache.add(lock, 1, timeout=RENDER_LOCK_SECONDS):
        return cached.previous  # another request is rendering this page
    try:
        return _render_and_store(article_key, url, cached.version, render)
    finally:
        cache.delete(lock)


def _render_and_store(
    article_key: str, url: str, version: str, render: Callable[[], bytes]
) -> bytes:
    body = render()
    public_list_cache_store(article_key=article_key, url=url, version=version, body=body)
    return body
