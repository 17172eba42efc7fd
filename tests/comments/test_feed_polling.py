"""Polling feeds over real HTTP into articles: conditional GETs, faults, re-polls, the task."""

import logging
import socket
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import DatabaseError

from comments import selectors, tasks
from comments.models import Article, FeedState
from comments.services import article_upsert, feeds_poll
from comments.services.articles import POLL_LOCK_KEY
from tests.comments.feed_server import Route, feed_server

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"
RSS = (DATA / "wordpress-rss2.xml").read_bytes()
ATOM = (DATA / "wordpress-atom.xml").read_bytes()
ETAG = '"5f2b-wp"'
MODIFIED = "Tue, 14 May 2024 07:45:12 GMT"
RSS_KEYS = ["4812", "4790", "2024-05-10-mp-materials-q1-results"]


@pytest.fixture
def server():
    with feed_server() as running:
        running.routes["/feed/"] = Route(body=RSS)
        yield running


def poll_one(url: str):
    report = feeds_poll(urls=[url])
    assert not report.skipped
    return report.feeds[0]


def test_a_poll_creates_an_article_per_item(server):
    report = poll_one(server.url("/feed/"))
    assert report.created == RSS_KEYS
    article = Article.objects.get(key="4812")
    assert article.title == "China\u2019s Rare Earth Exports Fall 12% & Prices Climb"
    assert article.url == "https://rareearthexchanges.example/news/china-rare-earth-exports-fall/"
    assert article.published_at == datetime(2024, 5, 14, 7, 30, tzinfo=UTC)
    assert (article.author, article.comments_open) == ("Jane Doe", True)
    assert article.summary.endswith("held back orders.")


def test_polling_again_updates_and_never_duplicates(server):
    poll_one(server.url("/feed/"))
    server.routes["/feed/"] = Route(body=RSS.replace(b"Fall 12%", b"Fall 14%"))
    report = poll_one(server.url("/feed/"))
    assert (report.created, report.updated, report.unchanged) == ([], ["4812"], 2)
    assert Article.objects.count() == 3
    title = Article.objects.get(key="4812").title
    assert title == "China\u2019s Rare Earth Exports Fall 14% & Prices Climb"


def test_what_the_feed_does_not_carry_is_kept(server):
    article_upsert(
        key="2024-05-10-mp-materials-q1-results",
        title="Old",
        url="",
        published_at=datetime(2024, 5, 1, tzinfo=UTC),
        comments_open=False,
        author="Staff writer",
    )
    report = poll_one(server.url("/feed/"))
    assert report.updated == ["2024-05-10-mp-materials-q1-results"]
    article = Article.objects.get(key="2024-05-10-mp-materials-q1-results")
    assert (article.title, article.author, article.comments_open) == (
        "MP Materials: First-Quarter Results",
        "Staff writer",
        False,
    )


def test_an_article_known_by_its_link_under_another_key_is_updated_not_duplicated(server):
    article_upsert(
        key="china-rare-earth-exports-fall",
        title="Old title",
        url="https://rareearthexchanges.example/news/china-rare-earth-exports-fall/",
        published_at=datetime(2024, 5, 14, tzinfo=UTC),
        comments_open=True,
    )
    report = poll_one(server.url("/feed/"))
    assert report.updated == ["china-rare-earth-exports-fall"]
    assert "4812" not in report.created
    assert Article.objects.count() == 3
    assert Article.objects.get(key="china-rare-earth-exports-fall").title.startswith("China")


def test_an_item_without_date_is_dated_when_first_seen_and_then_kept(server):
    undated = RSS.replace(b"<pubDate>Mon, 13 May 2024 18:05:00 +0000</pubDate>", b"")
    server.routes["/feed/"] = Route(body=undated)
    poll_one(server.url("/feed/"))
    first_seen = Article.objects.get(key="4790").published_at
    server.routes["/feed/"] = Route(body=undated.replace(b"Lynas Opens", b"Lynas Has Opened"))
    assert poll_one(server.url("/feed/")).updated == ["4790"]
    assert Article.objects.get(key="4790").published_at == first_seen


def test_relative_links_resolve_against_where_the_feed_was_read(server):
    relative = RSS.replace(b"<link>https://rareearthexchanges.example/news/", b"<link>/news/")
    server.routes["/feed/"] = Route(body=relative)
    poll_one(server.url("/feed/"))
    assert Article.objects.get(key="4790").url == server.url("/news/lynas-texas-plant/")


def test_an_atom_feed_is_polled_like_rss(server):
    server.routes["/feed/atom/"] = Route(body=ATOM, content_type="application/atom+xml")
    report = poll_one(server.url("/feed/atom/"))
    assert report.created == ["4812", "news-neodymium-price-index"]


# --- conditional GET ------------------------------------------------------------------


def test_the_stored_etag_and_last_modified_are_sent_and_304_does_nothing(server):
    server.routes["/feed/"] = Route(body=RSS, etag=ETAG, last_modified=MODIFIED)
    poll_one(server.url("/feed/"))
    assert "if-none-match" not in server.requests[0]
    Article.objects.filter(key="4812").update(title="Edited by hand")

    report = poll_one(server.url("/feed/"))

    assert server.requests[1]["if-none-match"] == ETAG
    assert server.requests[1]["if-modified-since"] == MODIFIED
    assert report.not_modified
    assert (report.created, report.updated) == ([], [])
    assert Article.objects.get(key="4812").title == "Edited by hand"
    state = FeedState.objects.get(url=server.url("/feed/"))
    assert (state.etag, state.modified, state.last_error) == (ETAG, MODIFIED, "")


def test_new_content_replaces_the_stored_validators(server):
    server.routes["/feed/"] = Route(body=RSS, etag=ETAG)
    poll_one(server.url("/feed/"))
    server.routes["/feed/"] = Route(body=RSS, etag='"6000-wp"')
    assert not poll_one(server.url("/feed/")).not_modified
    assert FeedState.objects.get(url=server.url("/feed/")).etag == '"6000-wp"'


# --- faults ---------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_feed_is_logged_and_left_for_the_next_poll(caplog):
    url = f"http://127.0.0.1:{_closed_port()}/feed/"
    with caplog.at_level(logging.WARNING, logger="comments.services.articles"):
        report = poll_one(url)
    assert report.error and not Article.objects.exists()
    assert url in caplog.text and "next poll" in caplog.text
    state = FeedState.objects.get(url=url)
    assert state.last_error == report.error
    assert state.last_polled_at is not None and state.last_success_at is None


def test_a_server_slower_than_the_timeout_is_abandoned(server, settings):
    settings.REEX_FEED_TIMEOUT_SECONDS = 0.3
    server.routes["/feed/"] = Route(body=RSS, delay=2)
    report = poll_one(server.url("/feed/"))
    assert "timed out" in report.error
    assert not Article.objects.exists()


@pytest.mark.parametrize("status", [HTTPStatus.NOT_FOUND, HTTPStatus.SERVICE_UNAVAILABLE])
def test_an_http_error_is_reported(server, status):
    server.routes["/feed/"] = Route(body=RSS, status=status)
    assert poll_one(server.url("/feed/")).error == f"HTTP {status.value}"
    assert not Article.objects.exists()


def test_a_malformed_feed_writes_nothing_and_keeps_the_old_validators(server):
    server.routes["/feed/"] = Route(body=RSS, etag=ETAG)
    poll_one(server.url("/feed/"))
    Article.objects.all().delete()
    cut = RSS[: RSS.index(b"<media:content")]
    server.routes["/feed/"] = Route(body=cut, etag='"broken"')

    report = poll_one(server.url("/feed/"))

    assert "not well-formed" in report.error
    assert not Article.objects.exists()
    assert FeedState.objects.get(url=server.url("/feed/")).etag == ETAG


def test_a_feed_larger_than_the_limit_is_refused(server, settings):
    settings.REEX_FEED_MAX_BYTES = 1024
    report = poll_one(server.url("/feed/"))
    assert "larger than 1024 bytes" in report.error
    assert not Article.objects.exists()


def test_a_server_dripping_the_body_past_the_timeout_is_abandoned(server, settings):
    # Each piece comes well within the timeout; the whole does not.
    settings.REEX_FEED_TIMEOUT_SECONDS = 0.5
    server.routes["/feed/"] = Route(body=RSS, drip=0.05)
    assert "timed out" in poll_one(server.url("/feed/")).error
    assert not Article.objects.exists()


def test_a_compressed_feed_is_read(server):
    server.routes["/feed/"] = Route(body=RSS, gzip=True)
    assert poll_one(server.url("/feed/")).created == RSS_KEYS


def test_the_size_limit_counts_the_decompressed_body(server, settings):
    settings.REEX_FEED_MAX_BYTES = 1024 * 1024
    bomb = RSS.replace(b"</channel>", b" " * (8 * 1024 * 1024) + b"</channel>")
    server.routes["/feed/"] = Route(body=bomb, gzip=True)
    assert "larger than 1048576 bytes" in poll_one(server.url("/feed/")).error


def test_one_bad_item_is_logged_and_skipped_and_the_others_go_in(server, caplog):
    # A host with a space passes feedparser but not the article's URL validation.
    bad = RSS.replace(
        b"<link>https://rareearthexchanges.example/news/lynas-texas-plant/</link>",
        b"<link>https://rare earth.example/news/lynas-texas-plant/</link>",
    )
    server.routes["/feed/"] = Route(body=bad)
    with caplog.at_level(logging.WARNING, logger="comments.services.articles"):
        report = poll_one(server.url("/feed/"))
    assert report.created == ["4812", "2024-05-10-mp-materials-q1-results"]
    assert report.problems == ["4790: url: Enter a valid URL."]
    assert "4790" in caplog.text
    assert not selectors.article_key_known(key="4790")


def test_an_invalid_feed_url_is_an_error_of_its_feed_only(server):
    report = feeds_poll(urls=["http://[::1/feed/", server.url("/feed/")])
    assert "InvalidURL" in report.feeds[0].error
    assert report.feeds[1].created == RSS_KEYS


def test_a_feed_url_too_long_to_keep_is_refused():
    report = poll_one("https://www.example.com/feed/?" + "x" * 500)
    assert "longer than 500" in report.error
    assert not FeedState.objects.exists()


def test_polls_do_not_overlap(server):
    cache.add(POLL_LOCK_KEY, "another poller", timeout=60)
    report = feeds_poll(urls=[server.url("/feed/")])
    assert report.skipped and report.feeds == []
    assert server.requests == []


def test_the_lock_is_released_after_a_poll(server):
    feeds_poll(urls=[server.url("/feed/")])
    assert cache.get(POLL_LOCK_KEY) is None


# --- the task and the selector ----------------------------------------------------------


def test_the_task_polls_the_configured_feeds(server, settings):
    settings.REEX_FEED_URLS = [server.url("/feed/")]
    assert tasks.poll_feeds() == {"feeds": 1, "created": 3, "updated": 0, "errors": 0}


def test_the_task_is_late_acked_on_the_bulk_queue_and_retries_database_errors():
    assert tasks.poll_feeds.queue == "bulk"
    assert tasks.poll_feeds.acks_late is True
    assert DatabaseError in tasks.poll_feeds.autoretry_for


def test_the_selector_knows_which_keys_exist(server):
    assert not selectors.article_key_known(key="4812")
    poll_one(server.url("/feed/"))
    assert selectors.article_key_known(key="4812")
