"""Reads of the comments capability."""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from comments.models import Article, Ban, Comment, Flag, Notification, SpamModelVersion
from reex.pagination import EstimatedCountPaginator, planner_estimate

Status = Comment.Status


def article_accepts_comments(*, article: Article, now: datetime) -> bool:
    """Return whether readers may comment: open, and not past the auto-close age."""
    if not article.comments_open:
        return False
    days = settings.REEX_CLOSE_COMMENTS_AFTER_DAYS
    return days <= 0 or article.published_at > now - timedelta(days=days)


def article_key_known(*, key: str) -> bool:
    """Return whether an article with this key exists."""
    return Article.objects.filter(key=key).exists()


def _shown_to_readers() -> Q:
    """Return the condition a comment meets to be shown: approved, and of a kind shown."""
    shown = Q(status=Status.APPROVED)
    if not settings.REEX_SHOW_PINGBACKS:
        shown &= Q(kind=Comment.Kind.COMMENT)
    return shown


def article_comment_count(*, article: Article) -> int:
    """Return the number of comments readers see (approved; pingbacks when shown)."""
    return article.comments.filter(_shown_to_readers()).count()


def article_comment_counts(*, keys: list[str]) -> dict[str, int]:
    """Return each key's number of approved comments (0 for an unknown key); one query."""
    rows = (
        Comment.objects.filter(article__key__in=keys, status=Status.APPROVED)
        .values("article__key")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = dict.fromkeys(keys, 0)
    counts.update({row["article__key"]: row["n"] for row in rows})
    return counts


def article_summary(*, article: Article, now: datetime) -> dict[str, object]:
    """Return what the article API shows."""
    return {
        "key": article.key,
        "title": article.title,
        "url": article.url,
        "summary": article.summary,
        "image_url": article.image_url,
        "author": article.author,
        "published_at": article.published_at,
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
    """Return the approved comments of an article, oldest first (pingbacks when shown)."""
    return Comment.objects.filter(_shown_to_readers(), article=article).order_by("created_at", "id")


def comment_ids_editable(*, ids: Iterable[int], now: datetime) -> set[int]:
    """Return which of these comments their author may still edit: pending or approved,
    inside the edit window, and with no pending or approved reply."""
    minutes = settings.REEX_EDIT_WINDOW_MINUTES
    wanted = list(ids)
    if minutes <= 0 or not wanted:
        return set()
    live = [Status.PENDING, Status.APPROVED]
    answered = Comment.objects.filter(parent_id__in=wanted, status__in=live).values("parent_id")
    editable = Comment.objects.filter(
        pk__in=wanted, status__in=live, created_at__gt=now - timedelta(minutes=minutes)
    ).exclude(pk__in=answered)
    return set(editable.values_list("pk", flat=True))


def comment_list_feed(*, article: Article | None, limit: int) -> list[Comment]:
    """Return the newest approved comments (of one article, or of all), newest first."""
    comments = Comment.objects.filter(status=Status.APPROVED).select_related("article")
    if article is not None:
        comments = comments.filter(article=article)
    return list(comments.order_by("-created_at", "-id")[:limit])


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
    visible = _shown_to_readers() | Q(status=Status.PENDING, pk__in=list(own_ids))
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


def comments_unchecked_count() -> int:
    """Count the comments waiting for the checks (read along the partial index)."""
    return Comment.objects.filter(status=Comment.Status.PENDING, checked_at=None).count()


def spam_model_version_current() -> int | None:
    """Return the id of the spam filter version in use, None when there is none."""
    return SpamModelVersion.objects.filter(is_current=True).values_list("pk", flat=True).first()


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


# --- readers' reports ---------------------------------------------------------------


def comments_reported() -> QuerySet[Comment]:
    """Return the reported queue: published or report-hidden comments with open reports,
    most recently reported first, each with ``open_flags`` and ``last_flagged_at``."""
    open_flags = Q(flags__cleared_at=None)
    reported = Comment.objects.filter(
        open_flags, flags__isnull=False, status__in=[Status.APPROVED, Status.PENDING]
    )
    annotated = reported.annotate(
        open_flags=Count("flags", filter=open_flags),
        last_flagged_at=Max("flags__created_at", filter=open_flags),
    )
    return annotated.select_related("article").order_by("-last_flagged_at", "-id")


def comment_flag_counts(*, comment_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Return the open reports of these comments by reason: {id: {reason: n}} (one query)."""
    rows = Flag.objects.filter(comment_id__in=list(comment_ids), cleared_at=None)
    counts: dict[int, dict[str, int]] = {}
    for row in rows.values("comment_id", "reason").annotate(n=Count("id")).order_by():
        counts.setdefault(row["comment_id"], {})[row["reason"]] = row["n"]
    return counts


def comment_flags(*, comment: Comment) -> QuerySet[Flag]:
    """Return every report of a comment, open and cleared, oldest first."""
    return Flag.objects.filter(comment=comment).order_by("created_at", "id")


# --- bans ---------------------------------------------------------------------------
# The checks read the bans not lifted, cached briefly (a ban or lift forgets the cache
# after commit); expiry is compared at each check, so a ban ends on time whatever the cache.
BANS_CACHE_KEY = "comments:bans:active"
BANS_CACHE_SECONDS = 30


def bans_not_lifted() -> QuerySet[Ban]:
    """Return the bans neither lifted nor expired now, newest first."""
    unexpired = Q(expires_at=None) | Q(expires_at__gt=timezone.now())
    return Ban.objects.filter(unexpired, lifted_at=None)


def _bans_cached() -> list[tuple[int, str, str, datetime | None]]:
    rows = cache.get(BANS_CACHE_KEY)
    if rows is None:
        rows = list(bans_not_lifted().values_list("id", "email", "network", "expires_at"))
        cache.set(BANS_CACHE_KEY, rows, timeout=BANS_CACHE_SECONDS)
    return rows


def bans_cache_forget() -> None:
    cache.delete(BANS_CACHE_KEY)


def _ip_in(ip: str | None, network: str) -> bool:
    if not ip or not network:
        return False
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(network)
    except ValueError:
        return False


def ban_active_for(*, email: str, ip: str | None, now: datetime | None = None) -> Ban | None:
    """Return an active ban of this address or IP (its own or its network's), or None."""
    now = now or timezone.now()
    address = email.strip().lower()
    for ban_id, ban_email, network, expires_at in _bans_cached():
        if expires_at is not None and expires_at <= now:
            continue
        if (ban_email and ban_email == address) or _ip_in(ip, network):
            return Ban.objects.filter(pk=ban_id, lifted_at=None).first()
    return None
