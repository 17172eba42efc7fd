"""The public list's cache: current after a change, one render per change, the previous
body served meanwhile, and never kept current past its lifetime."""

import threading
import time

import pytest
from django.core.cache import cache

from comments import public_cache
from comments.public_cache import (
    PUBLIC_LIST_CACHE_SECONDS,
    public_list_cache_bump,
    public_list_cache_store,
    public_list_cached,
    public_list_first_page,
)


class Renders:
    """A render that counts its calls and can be made slow."""

    def __init__(self, body: bytes, *, seconds: float = 0.0) -> None:
        self.body, self.seconds, self.calls = body, seconds, 0
        self._lock = threading.Lock()

    def __call__(self) -> bytes:
        with self._lock:
            self.calls += 1
        time.sleep(self.seconds)
        return self.body


def first_page(render: Renders, url: str = "u") -> bytes:
    return public_list_first_page(article_key="a", url=url, render=render)


def test_a_second_read_is_served_from_the_cache():
    render = Renders(b"v1")
    assert first_page(render) == b"v1"
    assert first_page(Renders(b"never")) == b"v1"
    assert render.calls == 1


def test_a_read_after_a_change_renders_the_new_body():
    first_page(Renders(b"v1"))
    public_list_cache_bump(article_key="a")

    assert first_page(Renders(b"v2")) == b"v2"
    assert first_page(Renders(b"never")) == b"v2"


def test_each_url_of_the_article_is_cached_apart_and_made_stale_together():
    first_page(Renders(b"list"), url="list")
    first_page(Renders(b"page"), url="page")
    public_list_cache_bump(article_key="a")

    assert first_page(Renders(b"list 2"), url="list") == b"list 2"
    assert first_page(Renders(b"page 2"), url="page") == b"page 2"


def test_a_change_during_a_render_leaves_that_render_stale():
    def render_while_changed() -> bytes:
        public_list_cache_bump(article_key="a")  # committed while the rows were read
        return b"old rows"

    assert first_page(render_while_changed) == b"old rows"  # type: ignore[arg-type]
    assert first_page(Renders(b"new rows")) == b"new rows"


def test_a_page_is_current_for_its_lifetime_only():
    public_list_cache_store(article_key="a", url="u", version="0", body=b"v1", now=1000)

    assert public_list_cached(article_key="a", url="u", now=1001).body == b"v1"
    expired = public_list_cached(article_key="a", url="u", now=1000 + PUBLIC_LIST_CACHE_SECONDS)
    assert expired.body is None
    assert expired.previous == b"v1"


def test_a_body_stored_in_the_old_format_is_a_miss():
    key = public_cache._page_key("a", "u")
    cache.set(key, ("0", b"pickled tuple"))

    assert first_page(Renders(b"v1")) == b"v1"


def test_readers_during_a_re_render_get_the_previous_body_and_only_one_renders():
    first_page(Renders(b"v1"))
    public_list_cache_bump(article_key="a")
    render = Renders(b"v2", seconds=0.3)
    start = threading.Barrier(8)
    bodies: list[bytes] = []

    def read() -> None:
        start.wait()
        bodies.append(first_page(render))

    readers = [threading.Thread(target=read) for _ in range(8)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(timeout=10)

    assert render.calls == 1
    assert sorted(bodies) == [b"v1"] * 7 + [b"v2"]
    assert first_page(Renders(b"never")) == b"v2"


def test_a_page_never_cached_is_rendered_by_each_reader_rather_than_waiting():
    render = Renders(b"v1", seconds=0.2)
    readers = [threading.Thread(target=first_page, args=(render,)) for _ in range(3)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(timeout=10)

    assert render.calls == 3


def test_a_failed_render_lets_the_next_reader_render():
    first_page(Renders(b"v1"))
    public_list_cache_bump(article_key="a")

    def failing() -> bytes:
        raise LookupError("gone")

    with pytest.raises(LookupError):
        first_page(failing)  # type: ignore[arg-type]
    assert first_page(Renders(b"v2")) == b"v2"


def test_a_render_lock_left_behind_expires(mocker):
    first_page(Renders(b"v1"))
    public_list_cache_bump(article_key="a")
    mocker.patch.object(public_cache, "RENDER_LOCK_SECONDS", 1)
    stuck = public_cache._lock_key(public_cache._page_key("a", "u"))
    cache.add(stuck, 1, timeout=public_cache.RENDER_LOCK_SECONDS)  # a crashed render

    assert first_page(Renders(b"v2")) == b"v1"
    time.sleep(1.1)
    assert first_page(Renders(b"v2")) == b"v2"
