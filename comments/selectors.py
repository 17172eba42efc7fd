"""Reads of the comments capability."""

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from comments.models import Article, Comment, Notification
from reex.pagination import EstimatedCountPaginator, planner_estimate

Status = Comment.Status


def article_accepts_comments(*, article: Article, now: datetime) -> bool:
    """Return whether readers may comment: open, and not past the auto-close age."""
    if not article.comments_open:
        return False
    days = settings.REEX_CLOSE_COMMENTS_AFTER_DAYS
    return days <= 0 or article.published_at > now - timedelta(days=days)


def article_comment_count(*, article: Article) -> int:
    """Return the number of approved comments."""
    return article.comments.filter(status=Status.APPROVED).count()


def article_summary(*, article: Article, now: datetime) -> dict[str, object]:
    """Return what the article API shows."""
    return {
        "key": article.key,
        "title": article.title,
        "url": article.url,
        "comments_open": article_accepts_comments(article=article, now=now),
        "comment_count": article_comment_count(article=article),
    }


def article_list_recent(*, limit: int, including: int | None = None) -> list[Article]:
    """Return the newest articles, and the one with id ``including`` if it is older."""
    articles = list(Article.objects.order_by("-published_at", "-id")[:limit])
    if including is not None and all(article.pk != including for article in articles):
        articles += Article.objects.filter(pk=including)
    return articles


def comment_get(*, comment_id: int) -> Comment | None:
    """Return the comment with its article, or None."""
    return Comment.objects.select_related("article").filter(pk=comment_id).first()


def comment_approved_get(*, article: Article, comment_id: int) -> Comment | None:
    """Return the article's approved comment with this id, or None."""
    return comment_list_public(article=article).filter(pk=comment_id).first()


def comment_list_public(*, article: Article) -> QuerySet[Comment]:
    """Return the approved comments of an article, oldest first."""
    return Comment.objects.filter(article=article, status=Status.APPROVED).order_by(
        "created_at", "id"
    )


PUBLIC_FIELDS = ("id", "parent_id", "author_name", "author_url", "body_html", "created_at")


def comment_rows_public(*, article: Article) -> "QuerySet[Comment, dict[str, Any]]":
    """Return the approved comments of an article as plain rows, oldest first.

    The hot read of the public API: no model instances, only what a reader may see.
    """
    return comment_list_public(article=article).values(*PUBLIC_FIELDS)


def _iso(value: datetime) -> str:
    """Format a datetime as DRF's DateTimeField does (current time zone, ``Z`` for UTC)."""
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def comment_row_public(row: dict[str, Any]) -> dict[str, Any]:
    """Return one row of ``comment_rows_public`` shaped as the API shows it."""
    return {
        "id": row["id"],
        "parent": row["parent_id"],
        "author_name": row["author_name"],
        "author_url": row["author_url"],
        "body_html": row["body_html"],
        "created_at": _iso(row["created_at"]),
    }


# --- the per-article cache of the public list -------------------------------------------
# A reader's first page is cached as the encoded response body, with the article's version
# when it was computed; a change to the approved set (services) sets a new version after
# commit, so the next read misses. The version is read before the database, so a page
# computed from rows that changed under it carries the old version and is never served.
# A hit is one Redis round trip (version and page together) and no serialisation. The
# short lifetime bounds staleness for writes that do not go through the services (bulk
# admin or privacy updates).
PUBLIC_LIST_CACHE_SECONDS = 60


@dataclass(frozen=True)
class CachedPage:
    """What a read of the cache found: the body if still current, and the version to store."""

    body: bytes | None
    version: str


def _version_key(article_key: str) -> str:
    return f"comments:public:version:{article_key}"


def _page_key(article_key: str, url: str) -> str:
    digest = hashlib.blake2b(url.encode(), digest_size=12).hexdigest()
    return f"comments:public:page:{article_key}:{digest}"


def public_list_cached(*, article_key: str, url: str) -> CachedPage:
    """Return the cached body of the page at ``url`` if it is of the current version."""
    version_key, page_key = _version_key(article_key), _page_key(article_key, url)
    found = cache.get_many([version_key, page_key])
    version = found.get(version_key) or "0"
    stored = found.get(page_key)
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == version:
        return CachedPage(body=stored[1], version=version)
    return CachedPage(body=None, version=version)


def public_list_cache_store(*, article_key: str, url: str, version: str, body: bytes) -> None:
    """Cache the body of the page at ``url``, computed from the data of ``version``."""
    page_key = _page_key(article_key, url)
    cache.set(page_key, (version, body), timeout=PUBLIC_LIST_CACHE_SECONDS)


def public_list_cache_bump(*, article_key: str) -> None:
    """Make every cached page of the article's public list stale."""
    cache.set(_version_key(article_key), uuid.uuid4().hex, timeout=None)


def public_list_first_page(*, article_key: str, url: str, render: Callable[[], bytes]) -> bytes:
    """Return the body of the public list's first page at ``url``: cached while current,
    else ``render()``, stored under the version read before it ran."""
    cached = public_list_cached(article_key=article_key, url=url)
    if cached.body is not None:
        return cached.body
    body = render()
    public_list_cache_store(article_key=article_key, url=url, version=cached.version, body=body)
    return body


@dataclass
class ThreadNode:
    comment: Comment
    replies: list["ThreadNode"] = field(default_factory=list)

    @property
    def is_pending(self) -> bool:
        return self.comment.status == Status.PENDING


def comment_thread(*, article: Article, own_ids: Iterable[int] = ()) -> list[ThreadNode]:
    """Return the article's approved comments as a tree, with the reader's own pending ones.

    One query. A reply whose parent is not shown (spam, trashed) is shown at the top level.
    """
    visible = Q(status=Status.APPROVED) | Q(status=Status.PENDING, pk__in=list(own_ids))
    comments = Comment.objects.filter(visible, article=article).order_by("created_at", "id")
    nodes = {comment.pk: ThreadNode(comment) for comment in comments}
    roots: list[ThreadNode] = []
    for node in nodes.values():
        parent = nodes.get(node.comment.parent_id or 0)
        (parent.replies if parent else roots).append(node)
    return roots


def comment_thread_members(*, comment: Comment) -> QuerySet[Comment]:
    """Return every comment of the comment's thread, its top comment first, oldest first."""
    root_id = comment.root_id or comment.pk
    members = Comment.objects.filter(Q(pk=root_id) | Q(root_id=root_id))
    return members.order_by("created_at", "id")


def comment_list_moderation(*, status: str | None = None) -> QuerySet[Comment]:
    """Return comments for moderators, newest first, optionally of one status."""
    comments = Comment.objects.select_related("article").order_by("-created_at", "-id")
    return comments.filter(status=status) if status else comments


def comment_status_counts(*, up_to: int | None = None) -> dict[str, int]:
    """Return how many comments each status holds, or ``up_to + 1`` for more than ``up_to``.

    Capped, each status is counted along the (status, created_at) index and stops after
    ``up_to + 1`` rows, where the uncapped ``GROUP BY status`` reads every row.
    """
    if up_to is None:
        rows = Comment.objects.values("status").annotate(n=Count("id")).order_by()
        counts = {status.value: 0 for status in Status}
        counts.update({row["status"]: row["n"] for row in rows})
        return counts
    by_status = Comment.objects.order_by()
    return {s.value: by_status.filter(status=s)[: up_to + 1].count() for s in Status}


def status_counts_shown(*, db: str = "default") -> dict[str, str]:
    """Return each status's count as the moderators' list shows it: exact, or "about N".

    On PostgreSQL a status is counted exactly up to the paginator's bound, and past it
    estimated by the planner: no page view reads every row. Elsewhere, exact.
    """
    if connections[db].vendor != "postgresql":
        return {k: f"{n:,}" for k, n in comment_status_counts().items()}
    bound = EstimatedCountPaginator.EXACT_UP_TO
    shown = {}
    for status, n in comment_status_counts(up_to=bound).items():
        if n <= bound:
            shown[status] = f"{n:,}"
        else:
            estimate = max(planner_estimate(Comment.objects.filter(status=status)), n)
            shown[status] = f"about {estimate:,}"
    return shown


def comments_by_email(*, email: str) -> QuerySet[Comment]:
    """Return the comments written from the address, whatever its case."""
    return Comment.objects.filter(author_email__iexact=email.strip())


def reply_notifications_to(*, email: str) -> QuerySet[Notification]:
    """Return the reply emails owed or sent to the address (as the parent's author)."""
    return Notification.objects.filter(
        kind=Notification.Kind.REPLY, comment__parent__author_email__iexact=email.strip()
    )


# --- the newsletter's "From the comments" ----------------------------------------------


@dataclass(frozen=True)
class Conversation:
    """An article's conversation as an edition shows it: a count, an excerpt and a link."""

    article: Article
    comment_count: int
    author_name: str
    excerpt: str
    url: str


CONVERSATION_EXCERPT_CHARS = 200


def conversations_liveliest(
    *, article_ids: Iterable[int], now: datetime, limit: int = 3
) -> list[Conversation]:
    """Return the articles with the most comments approved in the last day, busiest first.

    Each comes with a plain-text excerpt of its latest approved comment.
    """
    since = now - timedelta(days=1)
    recent = Q(
        comments__status=Status.APPROVED,
        comments__created_at__gt=since,
        comments__created_at__lte=now,
    )
    articles = (
        Article.objects.filter(pk__in=list(article_ids))
        .annotate(recent_count=Count("comments", filter=recent))
        .filter(recent_count__gt=0)
        .order_by("-recent_count", "-published_at", "-id")[:limit]
    )
    return [_conversation(article, now=now) for article in articles]


def _conversation(article: Article, *, now: datetime) -> Conversation:
    latest = (
        comment_list_public(article=article)
        .filter(created_at__lte=now)
        .order_by("-created_at", "-id")
        .first()
    )
    return Conversation(
        article=article,
        comment_count=getattr(article, "recent_count", 0),
        author_name=latest.author_name if latest else "",
        excerpt=_plain_excerpt(latest.body if latest else ""),
        url=article_comments_url(article=article),
    )


def _plain_excerpt(body: str) -> str:
    text = " ".join(strip_tags(body).split())
    limit = CONVERSATION_EXCERPT_CHARS
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def article_comments_url(*, article: Article) -> str:
    """Return where readers find the article's comments: its page on the site, else ours."""
    if article.url:
        return f"{article.url.split('#')[0]}#comments"
    return f"{settings.REEX_BASE_URL}{reverse('comments:article', args=[article.key])}"
