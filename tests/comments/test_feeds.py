"""The RSS feeds of approved comments: per article and site-wide."""

from datetime import timedelta
from http import HTTPStatus

import feedparser
import pytest
from django.utils import timezone

from comments.models import Comment
from tests.factories import ApprovedCommentFactory, ArticleFactory, CommentFactory

pytestmark = pytest.mark.django_db
Status = Comment.Status


@pytest.fixture
def article():
    return ArticleFactory.create(key="welcome", title="Welcome & <rare> earths")


def _parsed(client, url: str) -> feedparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("application/rss+xml")
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    return feed


def test_an_articles_feed_lists_its_approved_comments_only(client, article):
    shown = ApprovedCommentFactory.create(
        article=article, author_name="Ada", body_html="<p>Approved <b>text</b></p>"
    )
    for status in (Status.PENDING, Status.SPAM, Status.TRASH):
        CommentFactory.create(article=article, status=status, body=f"hidden {status}")
    ApprovedCommentFactory.create(body_html="<p>On another article</p>")

    feed = _parsed(client, "/articles/welcome/comments/feed/")

    assert feed.feed.title == "Comments on “Welcome & <rare> earths”"
    [entry] = feed.entries
    assert entry.title == "Ada on “Welcome & <rare> earths”"
    assert entry.description == "<p>Approved <b>text</b></p>"
    assert entry.link == f"http://testserver/articles/welcome/#comment-{shown.pk}"


def test_a_feed_never_carries_an_email_address_or_ip(client, article):
    ApprovedCommentFactory.create(article=article, author_email="secret@example.org")
    for url in ("/articles/welcome/comments/feed/", "/comments/feed/"):
        body = client.get(url).content.decode()
        assert "secret@example.org" not in body
        assert "203.0.113.7" not in body
        assert "<author>" not in body


def test_a_feed_carries_only_the_sanitised_html(client, article):
    ApprovedCommentFactory.create(
        article=article, body="<script>alert(1)</script>raw", body_html="<p>raw</p>"
    )
    body = client.get("/articles/welcome/comments/feed/").content.decode()
    assert "<script" not in body and "&lt;script" not in body


def test_the_site_feed_lists_the_newest_approved_comments_of_every_article(client, settings):
    now = timezone.now()
    for n in range(55):
        ApprovedCommentFactory.create(
            body_html=f"<p>number {n}</p>", created_at=now - timedelta(minutes=60 - n)
        )
    CommentFactory.create(body="pending, not shown")

    feed = _parsed(client, "/comments/feed/")

    assert len(feed.entries) == 50
    assert feed.entries[0].description == "<p>number 54</p>"
    assert feed.entries[-1].description == "<p>number 5</p>"


def test_an_articles_feed_is_limited_to_the_latest_50(client, article):
    ApprovedCommentFactory.create_batch(51, article=article)
    assert len(_parsed(client, "/articles/welcome/comments/feed/").entries) == 50


def test_an_unknown_articles_feed_is_404(client):
    assert client.get("/articles/nope/comments/feed/").status_code == HTTPStatus.NOT_FOUND


def test_an_empty_feed_is_valid_rss(client, article):
    assert _parsed(client, "/articles/welcome/comments/feed/").entries == []


def test_the_reader_page_links_its_feed(client, article):
    html = client.get("/articles/welcome/").content.decode()
    assert (
        '<link rel="alternate" type="application/rss+xml" title="Comments on '
        '“Welcome &amp; &lt;rare&gt; earths”" href="/articles/welcome/comments/feed/">'
    ) in html
