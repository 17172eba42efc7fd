"""The batch moderation: a task claims unchecked comments, runs the checks, and writes
every decision at once; the sweeps queue what was lost and purge old spam."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from comments import sql, tasks
from comments.checks import Review, Words, moderation_decide, moderation_words
from comments.models import Comment, ModerationEvent, Notification
from comments.sanitize import sanitize
from comments.services.events import comment_event_approved, comment_event_held
from comments.services.notifications import notification_queue, reply_notification_queue
from comments.services.transitions import comment_transition, public_lists_changed
from comments.spam import akismet
from reex import metrics, wakeup
from reex.enqueue import enqueue

Status = Comment.Status
# A task batches unchecked comments created this long before its own, or later.
BATCH_WINDOW = timedelta(seconds=10)


def _comments_loaded(ids: list[int]) -> list[Comment]:
    loaded = Comment.objects.select_related("article", "parent").in_bulk(ids)
    return [loaded[pk] for pk in ids if pk in loaded]


def _claim_unchecked(*, comment_id: int, limit: int) -> list[Comment]:
    """Lock the comment if still unchecked, then up to ``limit - 1`` other unchecked ones
    created at most BATCH_WINDOW before it or later, oldest first; [] if it was done.

    The window keeps an old backlog (comments whose tasks were lost) out of fresh
    batches, so a reader's comment never waits behind it; the sweep queues that backlog
    oldest first, and each of its tasks takes the next stretch. Rows another transaction
    holds (a moderator deciding, another task's batch) are skipped, so parallel tasks take
    disjoint batches. The claim is the row lock until the decisions (with ``checked_at``)
    commit: an error or a dead worker rolls it back.
    """
    if not sql.comment_claim_unchecked(comment_id=comment_id):
        return []
    claimed = _comments_loaded([comment_id])
    if limit > 1:
        since = claimed[0].created_at - BATCH_WINDOW
        others = sql.comments_claim_unchecked(since=since, other_than=comment_id, limit=limit - 1)
        claimed += _comments_loaded(others)
    return claimed


def _batch_size() -> int:
    # An Akismet outage retries the comment's own task with backoff, and its last try
    # holds the comment: with Akismet asked, a task decides only its own comment.
    return 1 if akismet.akismet_enabled() else settings.REEX_MODERATION_BATCH


def _moderated(
    comment: Comment, *, now: datetime, words: Words, last_attempt: bool
) -> ModerationEvent:
    """Sanitise and decide a claimed comment; return its audit event, not yet saved."""
    comment.checked_at = now
    comment.body_html = sanitize(comment.body)
    review = Review(comment=comment, last_attempt=last_attempt, words=words)
    decision = moderation_decide(review)
    comment.spam_score, comment.reasons = review.spam_score, review.reasons
    return comment_transition(
        comment,
        to=decision.status,
        action="check",
        reason=decision.reason,
        actor=None,
        rule=decision.rule,
    )


def _decided(claimed: list[Comment]) -> None:
    """Make the public lists stale after commit; owe the notifications and the events."""
    public_lists_changed(c.article.key for c in claimed if c.status == Status.APPROVED)
    outcomes = [c.status for c in claimed]
    transaction.on_commit(lambda: metrics.comments_decided(outcomes))
    for comment in claimed:
        if comment.status == Status.PENDING:
            notification_queue(comment, Notification.Kind.MODERATORS)
            comment_event_held(comment)
        elif comment.status == Status.APPROVED:
            reply_notification_queue(comment)
            comment_event_approved(comment)


@transaction.atomic
def comments_moderate_recent() -> int:
    """Claim and decide a batch of unchecked comments of the last BATCH_WINDOW; count them.

    What a woken task drains (reex/wakeup.py); an older backlog is the sweep's.
    """
    since = timezone.now() - BATCH_WINDOW
    ids = sql.comments_claim_unchecked(since=since, other_than=0, limit=_batch_size())
    claimed = _comments_loaded(ids)
    if claimed:
        _decide(claimed, comment_id=None, last_attempt=False)
    return len(claimed)


def comment_moderate_woken(*, comment_id: int, last_attempt: bool = False) -> int:
    """Decide the comment that woke the task, then every comment saved while it ran."""
    with wakeup.handed_over_on_failure("moderation", tasks.moderate_comment, 0):
        own = comment_moderate(comment_id=comment_id, last_attempt=last_attempt)
    return int(own is not None) + wakeup.drain_until_quiet("moderation", comments_moderate_recent)


def _decide(claimed: list[Comment], *, comment_id: int | None, last_attempt: bool) -> None:
    now, words = timezone.now(), moderation_words()
    events = [
        _moderated(c, now=now, words=words, last_attempt=last_attempt and c.pk == comment_id)
        for c in claimed
    ]
    sql.comment_decisions_write(claimed)
    ModerationEvent.objects.bulk_create(events)
    _decided(claimed)


@transaction.atomic
def comment_moderate(*, comment_id: int, last_attempt: bool = False) -> Comment | None:
    """Check a new comment and decide it, with other unchecked ones; None if it was done.

    One task decides up to REEX_MODERATION_BATCH comments in one transaction (its own
    first): the checks' reads once, the writes in bulk. A redelivered or repeated task
    finds its comment checked and does nothing; an error rolls every claim back, so a
    retry (or the sweep) starts afresh. On the task's last attempt a check
    whose service is down holds the comment instead.
    """
    claimed = _claim_unchecked(comment_id=comment_id, limit=_batch_size())
    if not claimed:
        return None
    _decide(claimed, comment_id=comment_id, last_attempt=last_attempt)
    return next((comment for comment in claimed if comment.pk == comment_id), None)


def comment_requeue_unchecked(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Queue moderation again for comments left unchecked (the broker was down); count them."""
    cutoff = timezone.now() - older_than
    stuck = Comment.objects.filter(status=Status.PENDING, checked_at=None, created_at__lt=cutoff)
    ids = list(stuck.order_by("created_at", "id").values_list("pk", flat=True)[:1000])
    # Each task decides a batch: its own comment and the next unchecked ones.
    for comment_id in ids[:: _batch_size()]:
        if not enqueue(tasks.moderate_comment, comment_id):
            break  # the broker is down: the next sweep tries again
    return len(ids)


def comment_purge_spam(*, now: datetime | None = None) -> int:
    """Delete spam older than REEX_SPAM_RETENTION_DAYS (0 keeps spam forever)."""
    days = settings.REEX_SPAM_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = Comment.objects.filter(status=Status.SPAM, status_changed_at__lt=cutoff)
    return old.delete()[1].get("comments.Comment", 0)
