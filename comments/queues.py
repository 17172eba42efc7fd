"""Reads of the moderators' queue page: the queues, the actions a row offers, and an
author's history. Every list is read newest first along an index and bounded."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from comments.models import Comment, ModerationEvent
from comments.selectors import comments_reported

Status = Comment.Status


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str
    description: str


QUEUES = {
    queue.slug: queue
    for queue in [
        Queue("pending", "Pending", "Held by the checks for a moderator."),
        Queue(
            "reported",
            "Reported",
            "Reported by readers, most recently reported first: published, or hidden again "
            "once enough readers reported them. Approving clears the reports for good.",
        ),
        Queue("spam", "Spam", "Marked spam by the checks or a moderator."),
        Queue("recent", "Recent", "Every comment, newest first."),
    ]
}
DEFAULT_QUEUE = "pending"


def queue_comments(*, queue: str) -> QuerySet[Comment]:
    """Return the comments of a queue, newest first, with their articles.

    Pending is what the checks held: comments the workers have not checked yet are not a
    moderator's work (they are decided within seconds). Each list reads along an index:
    (status, created_at) for a status, (created_at, id) for recent; reported reads the
    open reports (few, along their partial index) and their comments.
    """
    comments = Comment.objects.select_related("article").order_by("-created_at", "-id")
    if queue == "pending":
        return comments.filter(status=Status.PENDING, checked_at__isnull=False)
    if queue == "reported":
        return comments_reported()
    if queue == "spam":
        return comments.filter(status=Status.SPAM)
    if queue == "recent":
        return comments
    raise KeyError(queue)


@dataclass(frozen=True)
class RowAction:
    name: str
    label: str
    key: str


# (service action, button label, keyboard key); `a` is "Not spam" on a spam row.
ROW_ACTIONS = {
    "approve": RowAction("approve", "Approve", "a"),
    "ham": RowAction("ham", "Not spam", "a"),
    "spam": RowAction("spam", "Spam", "s"),
    "trash": RowAction("trash", "Trash", "d"),
    "restore": RowAction("restore", "Restore", "r"),
}


KEEP = RowAction("approve", "Keep (clear reports)", "a")


def comment_row_actions(*, status: str, reported: bool = False) -> list[RowAction]:
    """Return the actions that change a comment in this status, as its row offers them.

    A published comment with open reports may also be kept: approving clears them.
    """
    if reported and status == Status.APPROVED:
        return [KEEP, ROW_ACTIONS["spam"], ROW_ACTIONS["trash"]]
    names = {
        Status.PENDING: ["approve", "spam", "trash"],
        Status.APPROVED: ["spam", "trash"],
        Status.SPAM: ["ham", "trash"],
        Status.TRASH: ["restore", "approve", "spam"],
    }[Status(status)]
    return [ROW_ACTIONS[name] for name in names]


def comment_action_for_key(*, status: str, key: str) -> str | None:
    """Return the action a key stands for on a comment in this status (None: nothing)."""
    return next((a.name for a in comment_row_actions(status=status) if a.key == key), None)


def comment_last_decision(*, comment: Comment) -> ModerationEvent | None:
    """Return the comment's latest audit event (what an undo would take back)."""
    return comment.events.select_related("actor").order_by("-created_at", "-id").first()


def comment_undoable_event(*, comment: Comment, user: Any) -> ModerationEvent | None:
    """Return the comment's latest event if this user made it and it is not an undo."""
    event = comment_last_decision(comment=comment)
    if event is None or event.actor_id != user.pk or event.action == "undo":
        return None
    return event


REPORTED_COUNTED = 1000


def reported_count() -> str:
    """Return how many comments have open reports, as the queue's tab shows it (capped)."""
    n = comments_reported().order_by()[: REPORTED_COUNTED + 1].count()
    return f"{REPORTED_COUNTED:,}+" if n > REPORTED_COUNTED else f"{n:,}"


# --- an author's history ------------------------------------------------------------------

HISTORY_SHOWN = 10
# Statuses are counted over this many of an address's latest comments, not all of them.
HISTORY_COUNTED = 500


@dataclass
class AuthorHistory:
    comment: Comment
    by_email: list[Comment]
    by_ip: list[Comment]
    email_counts: dict[str, int] = field(default_factory=dict)
    email_counted: int = 0
    capped: bool = False

    @property
    def is_first(self) -> bool:
        return not self.by_email and not self.by_ip


def _others(comments: QuerySet[Comment], comment: Comment) -> list[Comment]:
    others = comments.exclude(pk=comment.pk).select_related("article")
    return list(others.order_by("-created_at", "-id")[:HISTORY_SHOWN])


def author_history(*, comment: Comment) -> AuthorHistory:
    """Return the author's other comments: by the same address, then others from the same
    IP address, newest first, with the statuses of the address's latest comments counted.

    At most four queries, each along the (author_email, created_at) or (ip_address,
    created_at) index and bounded, however much an author wrote.
    """
    same_email = Comment.objects.filter(author_email=comment.author_email)
    by_ip: list[Comment] = []
    if comment.ip_address:
        same_ip = Comment.objects.filter(ip_address=comment.ip_address)
        by_ip = _others(same_ip.exclude(author_email=comment.author_email), comment)
    latest = same_email.order_by("-created_at", "-id")[:HISTORY_COUNTED]
    statuses = list(latest.values_list("status", flat=True))
    return AuthorHistory(
        comment=comment,
        by_email=_others(same_email, comment),
        by_ip=by_ip,
        email_counts={s.label: n for s, n in _counted(statuses).items() if n},
        email_counted=len(statuses),
        capped=len(statuses) >= HISTORY_COUNTED,
    )


def _counted(statuses: list[str]) -> dict[Status, int]:
    counts = Counter(statuses)
    return {status: counts.get(status.value, 0) for status in Status}
