"""Reads of the comments capability."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from comments.models import Article, Comment

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


def comment_list_public(*, article: Article) -> QuerySet[Comment]:
    """Return the approved comments of an article, oldest first."""
    return Comment.objects.filter(article=article, status=Status.APPROVED).order_by(
        "created_at", "id"
    )


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


def comment_list_moderation(*, status: str | None = None) -> QuerySet[Comment]:
    """Return comments for moderators, newest first, optionally of one status."""
    comments = Comment.objects.select_related("article").order_by("-created_at", "-id")
    return comments.filter(status=status) if status else comments


def comment_status_counts() -> dict[str, int]:
    """Return how many comments each status holds."""
    rows = Comment.objects.values("status").annotate(n=Count("id")).order_by()
    counts = {status.value: 0 for status in Status}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts
