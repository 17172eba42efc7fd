"""``python manage.py feeds_poll`` and the feed settings."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from comments.services.articles import POLL_LOCK_KEY
from tests.comments.feed_server import Route, feed_server

DATA = Path(__file__).parent / "data"
RSS = (DATA / "wordpress-rss2.xml").read_bytes()
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("feeds_poll", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def server():
    with feed_server() as running:
        running.routes["/feed/"] = Route(body=RSS, etag='"v1"')
        yield running


@pytest.mark.django_db
def test_it_prints_what_it_created_then_that_nothing_changed(server, settings):
    settings.REEX_FEED_URLS = [server.url("/feed/")]
    out, _ = run()
    assert f"{server.url('/feed/')}: 3 created, 0 updated, 0 unchanged" in out
    assert "  created 4812\n" in out
    assert "  created 2024-05-10-mp-materials-q1-results\n" in out
    again, _ = run()
    assert "not modified since the last poll" in again


@pytest.mark.django_db
def test_it_prints_what_it_updated(server):
    run("--url", server.url("/feed/"))
    server.routes["/feed/"] = Route(body=RSS.replace(b"Lynas Opens", b"Lynas Opened"))
    out, _ = run("--url", server.url("/feed/"))
    assert "0 created, 1 updated, 2 unchanged" in out
    assert "  updated 4790\n" in out


@pytest.mark.django_db
def test_it_prints_errors_and_fails(server):
    server.routes["/feed/"] = Route(status=500)
    err = StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("feeds_poll", "--url", server.url("/feed/"), stdout=StringIO(), stderr=err)
    assert f"{server.url('/feed/')}: error: HTTP 500" in err.getvalue()


@pytest.mark.django_db
def test_it_names_the_skipped_items(server):
    untitled = RSS.replace(b"Lynas Opens Its Texas Plant: &#8220;A Milestone&#8221;", b"")
    server.routes["/feed/"] = Route(body=untitled)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("feeds_poll", "--url", server.url("/feed/"), stdout=out, stderr=err)
    assert "2 created" in out.getvalue()
    assert "  error: https://rareearthexchanges.example/?p=4790: item 4790 has no title" in (
        err.getvalue()
    )


def test_it_needs_a_feed(settings):
    settings.REEX_FEED_URLS = []
    with pytest.raises(CommandError, match="REEX_FEED_URLS"):
        run()


def _settings_of(**env: str) -> subprocess.CompletedProcess[str]:
    code = (
        "from django.conf import settings; import django; django.setup(); "
        "entry = settings.CELERY_BEAT_SCHEDULE.get('comments-poll-feeds'); "
        "print(settings.REEX_FEED_URLS, settings.REEX_FEED_POLL_MINUTES, entry)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "reex.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_beat_polls_the_configured_feeds_every_few_minutes():
    result = _settings_of(REEX_FEED_URLS="https://a.example/feed/, https://b.example/feed/atom/")
    assert result.returncode == 0, result.stderr
    assert "['https://a.example/feed/', 'https://b.example/feed/atom/'] 10" in result.stdout
    assert "'task': 'comments.tasks.poll_feeds', 'schedule': 600.0" in result.stdout
    assert "'queue': 'bulk'" in result.stdout


def test_the_poll_interval_is_a_setting():
    result = _settings_of(REEX_FEED_URLS="https://a.example/feed/", REEX_FEED_POLL_MINUTES="3")
    assert "'schedule': 180.0" in result.stdout


def test_without_feeds_beat_has_nothing_to_poll():
    result = _settings_of(REEX_FEED_URLS="")
    assert result.stdout.strip().endswith("None")


def test_a_feed_url_that_is_not_http_stops_the_start():
    result = _settings_of(REEX_FEED_URLS="file:///etc/passwd")
    assert result.returncode != 0
    assert "REEX_FEED_URLS must be http:// or https://" in result.stderr


@pytest.mark.django_db
def test_it_says_when_another_poll_holds_the_lock(server):
    cache.add(POLL_LOCK_KEY, "another poller", timeout=60)
    with pytest.raises(CommandError, match="Another feed poll is running"):
        run("--url", server.url("/feed/"))
    assert server.requests == []
