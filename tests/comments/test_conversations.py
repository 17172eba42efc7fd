"""The liveliest conversations of a set of articles, for the newsletter."""

from datetime import UTC, datetime, timedelta

import pytest

from comments import selectors
from comments.models import Comment
from tests.factories import ApprovedCommentFactory, ArticleFactory, CommentFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 7, 15, 7, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def comments(article, count: int, *, at: datetime, **fields) -> None:
    for n in range(count):
        ApprovedCommentFactory.create(
            article=article, created_at=at - n * timedelta(minutes=1), **fields
        )


def test_the_busiest_articles_of_the_last_day_come_first_three_at_most():
    articles = [ArticleFactory.create(key=f"a{n}") for n in range(5)]
    for count, article in zip([1, 4, 2, 3, 0], articles, strict=True):
        comments(article, count, at=NOW - HOUR)
    found = selectors.conversations_liveliest(article_ids=[a.pk for a in articles], now=NOW)
    assert [(c.article.key, c.comment_count) for c in found] == [("a1", 4), ("a3", 3), ("a2", 2)]


def test_only_approved_comments_of_the_last_day_count():
    article = ArticleFactory.create()
    comments(article, 1, at=NOW - 25 * HOUR)
    CommentFactory.create(article=article, created_at=NOW - HOUR)  # pending
    CommentFactory.create(article=article, status=Comment.Status.SPAM, created_at=NOW - HOUR)
    assert selectors.conversations_liveliest(article_ids=[article.pk], now=NOW) == []


def test_articles_outside_the_edition_are_ignored():
    inside, outside = ArticleFactory.create(), ArticleFactory.create()
    comments(outside, 5, at=NOW - HOUR)
    comments(inside, 1, at=NOW - HOUR)
    found = selectors.conversations_liveliest(article_ids=[inside.pk], now=NOW)
    assert [c.article for c in found] == [inside]


def test_the_excerpt_is_the_latest_approved_comment_in_short_plain_text():
    article = ArticleFactory.create(url="https://news.example.org/story/")
    ApprovedCommentFactory.create(article=article, body="Older one.", created_at=NOW - 2 * HOUR)
    latest = "<b>Bold</b> claim:   " + "word " * 80
    ApprovedCommentFactory.create(
        article=article, author_name="Ann", body=latest, created_at=NOW - HOUR
    )
    (found,) = selectors.conversations_liveliest(article_ids=[article.pk], now=NOW)
    assert found.author_name == "Ann"
    assert found.excerpt.startswith("Bold claim: word word")
    assert found.excerpt.endswith("…") and len(found.excerpt) <= 200
    assert found.url == "https://news.example.org/story/#comments"


def test_an_article_without_url_links_to_its_comments_here(settings):
    settings.REEX_BASE_URL = "https://comments.example.org"
    article = ArticleFactory.create(key="no-url", url="")
    comments(article, 1, at=NOW - HOUR)
    (found,) = selectors.conversations_liveliest(article_ids=[article.pk], now=NOW)
    assert found.url == "https://comments.example.org/articles/no-url/"
