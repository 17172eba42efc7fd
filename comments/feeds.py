"""RSS feeds of approved comments: one article's, and the whole site's.

Only what the reader page shows goes out: the author's name and website, the sanitised
HTML, the time. Never an email address (RSS's ``<author>`` is one, so it is left out).
"""

from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Rss201rev2Feed

from comments import selectors
from comments.emails import absolute, comment_public_url
from comments.models import Article, Comment

FEED_ITEMS = 50

# Feed is generic only in the type stubs.
if TYPE_CHECKING:
    _Feed = Feed[Comment, Article | None]
else:
    _Feed = Feed


class _CommentsFeed(_Feed):
    feed_type = Rss201rev2Feed

    def item_title(self, item: Comment) -> str:
        return f"{item.author_name} on “{item.article.title}”"

    def item_description(self, item: Comment) -> str:
        return item.body_html

    def item_link(self, item: Comment) -> str:
        return comment_public_url(item)

    def item_guid(self, item: Comment) -> str:
        return comment_public_url(item)

    def item_pubdate(self, item: Comment) -> datetime:
        return item.created_at

    def item_author_link(self, item: Comment) -> str | None:
        return item.author_url or None


class ArticleCommentsFeed(_CommentsFeed):
    """The latest approved comments under one article; 404 for an unknown article."""

    def get_object(self, request: HttpRequest, key: str) -> Article:
        return get_object_or_404(Article, key=key)

    def title(self, obj: Article) -> str:
        return f"Comments on “{obj.title}”"

    def link(self, obj: Article) -> str:
        return absolute(reverse("comments:article", kwargs={"key": obj.key}))

    def description(self, obj: Article) -> str:
        return f"The latest {FEED_ITEMS} published comments on “{obj.title}”."

    def items(self, obj: Article) -> list[Comment]:
        return selectors.comment_list_feed(article=obj, limit=FEED_ITEMS)


class SiteCommentsFeed(_CommentsFeed):
    """The latest approved comments on every article."""

    title = "Latest comments"
    description = f"The latest {FEED_ITEMS} published comments on every article."

    def link(self) -> str:
        return absolute(reverse("comments:feed"))

    def items(self) -> list[Comment]:
        return selectors.comment_list_feed(article=None, limit=FEED_ITEMS)
