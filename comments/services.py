"""Every write of the comments capability: views, APIs, admin and tasks call these."""

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Field, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from comments import emails, tasks
from comments.checks import Review, Words, moderation_decide, moderation_words
from comments.models import Article, Comment, ModerationEvent, Notification
from comments.sanitize import sanitize
from comments.selectors import article_accepts_comments, public_list_cache_bump
from comments.spam import akismet
from reex.enqueue import enqueue_on_commit

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)
Status = Comment.Status
Actor = AbstractBaseUser | AnonymousUser | None
# A notification claimed longer ago than this belonged to a worker that died: retake it.
NOTIFICATION_LEASE = timedelta(minutes=10)
_ERROR_TEXT_LIMIT = 500


class CommentError(Exception):
    """A refusal the caller turns into an answer (the message is for the reader)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CommentsClosed(CommentError):
    pass


class DuplicateComment(CommentError):
    pass


class CommentFlood(CommentError):
    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidTransition(CommentError):
    pass


# --- articles -------------------------------------------------------------------------


@transaction.atomic
def article_upsert(
    *, key: str, title: str, url: str, published_at: datetime, comments_open: bool
) -> tuple[Article, bool]:
    """Create or update the article with this key; return it and whether it was created."""
    article = Article.objects.select_for_update().filter(key=key).first()
    created = article is None
    if article is None:
        article = Article(key=key)
    article.title, article.url = title, url
    article.published_at, article.comments_open = published_at, comments_open
    article.full_clean()
    article.save()
    return article, created


# --- submission -----------------------------------------------------------------------


def _normalise_body(body: str) -> str:
    return body.replace("\r\n", "\n").replace("\r", "\n").strip()


def _parent_errors(*, article: Article, parent_id: int | None) -> tuple[Comment | None, list]:
    if parent_id is None:
        return None, []
    parent = Comment.objects.filter(pk=parent_id, article=article, status=Status.APPROVED).first()
    if parent is None:
        return None, ["Reply to an approved comment of this article."]
    if parent.depth + 1 > settings.REEX_MAX_REPLY_DEPTH:
        return None, [f"Replies nest at most {settings.REEX_MAX_REPLY_DEPTH} levels deep."]
    return parent, []


# What the reader typed; every other field is set here and needs no check.
_READER_FIELDS = ("author_name", "author_email", "author_url", "body")
_NOT_TYPED = [field.name for field in Comment._meta.fields if field.name not in _READER_FIELDS]


def _validated(comment: Comment, *, parent_id: int | None) -> Comment:
    """Check every field at once; raise a ValidationError naming each bad field."""
    errors: dict[str, list] = {}
    try:
        comment.clean_fields(exclude=_NOT_TYPED)
    except ValidationError as error:
        errors.update(error.message_dict)
    parent, parent_errors = _parent_errors(article=comment.article, parent_id=parent_id)
    if parent_errors:
        errors["parent"] = parent_errors
    if errors:
        raise ValidationError(errors)
    if parent is not None:
        comment.parent, comment.depth = parent, parent.depth + 1
        comment.root_id = parent.root_id or parent.pk
    return comment


# Written out: building the same query with the ORM cost a quarter of a POST's CPU.
_DUPLICATE_SQL = """SELECT EXISTS (
    SELECT 1 FROM comments_comment
    WHERE article_id = %s AND author_email = %s AND body = %s AND status <> %s)"""
_FLOOD_SQL = """(SELECT MAX(created_at) FROM comments_comment
    WHERE (author_email = %s OR ip_address = %s) AND created_at > %s)"""


def _last_of(value: datetime | str | None) -> datetime | None:
    # SQLite answers MAX() with the stored text (UTC), PostgreSQL with a datetime.
    if not isinstance(value, str):
        return value
    parsed = parse_datetime(value)
    return parsed.replace(tzinfo=UTC) if parsed and parsed.tzinfo is None else parsed


def _refuse_repeat(comment: Comment, *, now: datetime) -> None:
    """Refuse a duplicate of a comment not trashed, then a flood, reading both in one query."""
    params: list[Any] = [comment.article_id, comment.author_email, comment.body, Status.TRASH]
    sql = _DUPLICATE_SQL + ", NULL"
    seconds = settings.REEX_COMMENT_FLOOD_SECONDS
    if seconds > 0:
        since = connection.ops.adapt_datetimefield_value(now - timedelta(seconds=seconds))
        params += [comment.author_email, comment.ip_address, since]
        sql = _DUPLICATE_SQL + ", " + _FLOOD_SQL
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        duplicate, last = cursor.fetchone()
    if duplicate:
        raise DuplicateComment("You already posted this comment.")
    last = _last_of(last)
    if last is None:
        return
    wait = math.ceil((last + timedelta(seconds=seconds) - now).total_seconds())
    raise CommentFlood("You are posting comments too quickly. Slow down.", retry_after=max(wait, 1))


@transaction.atomic
def comment_submit(*, article_key: str, **fields: Any) -> Comment:
    """Do what comment_create does for the article with this key, found and locked at once.

    One round trip less than a lookup and then comment_create. Raises Article.DoesNotExist
    and whatever comment_create raises.
    """
    article = Article.objects.select_for_update().get(key=article_key)
    return comment_create(article=article, article_locked=True, **fields)


def comment_create(
    *,
    article: Article,
    author_name: str,
    author_email: str,
    body: str,
    author_url: str = "",
    parent_id: int | None = None,
    notify_replies: bool = False,
    ip: str | None = None,
    user_agent: str = "",
    referrer: str = "",
    article_locked: bool = False,
) -> Comment:
    """Save a reader's comment as pending and queue its moderation after commit.

    ``article_locked`` says the caller read the article with ``select_for_update`` in the
    enclosing transaction (comment_submit). Raises CommentsClosed, ValidationError
    (per field), DuplicateComment or CommentFlood.
    """
    # Within comment_submit's transaction a savepoint would only cost two round trips.
    with transaction.atomic(savepoint=not article_locked):
        now = timezone.now()
        if not article_accepts_comments(article=article, now=now):
            raise CommentsClosed("Comments are closed for this article.")
        comment = Comment(
            article=article,
            author_name=author_name.strip(),
            author_email=author_email.strip().lower(),
            author_url=author_url.strip(),
            body=_normalise_body(body),
            notify_replies=notify_replies,
            ip_address=ip,
            user_agent=user_agent[:500],
            referrer=referrer[:500],
            created_at=now,
            status_changed_at=now,
        )
        _validated(comment, parent_id=parent_id)
        # One submission per article at a time: the duplicate and flood checks read what an
        # earlier submission wrote, so two parallel posts cannot both pass them.
        if not article_locked:
            list(Article.objects.select_for_update().filter(pk=article.pk).values_list("pk"))
        _refuse_repeat(comment, now=now)
        comment.save()
        enqueue_on_commit(tasks.moderate_comment, comment.pk)
        return comment


@transaction.atomic
def comment_import(
    *,
    article: Article,
    author_name: str,
    author_email: str,
    body: str,
    author_url: str = "",
    parent: Comment | None = None,
    status: Status = Status.APPROVED,
    created_at: datetime | None = None,
) -> Comment:
    """Save an already-moderated comment (demo data, imports): sanitised, audited, no mail."""
    now = timezone.now()
    comment = Comment(
        article=article,
        parent=parent,
        root_id=(parent.root_id or parent.pk) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        author_name=author_name.strip(),
        author_email=author_email.strip().lower(),
        author_url=author_url.strip(),
        body=_normalise_body(body),
        body_html=sanitize(_normalise_body(body)),
        status=status,
        status_changed_at=now,
        checked_at=now,
        created_at=created_at or now,
    )
    comment.full_clean()
    comment.save()
    if status == Status.APPROVED:
        _public_list_changed(comment)
    ModerationEvent.objects.create(
        comment=comment,
        rule="import",
        action="import",
        from_status=Status.PENDING,
        to_status=status,
        reason="Imported as already moderated.",
    )
    return comment


# --- moderation -----------------------------------------------------------------------


def _record(
    comment: Comment,
    *,
    to: Status,
    action: str,
    reason: str,
    actor: Actor = None,
    rule: str = "",
) -> ModerationEvent:
    """Move a comment to a status and write the audit event (the caller saves the comment)."""
    event = _transition(comment, to=to, action=action, reason=reason, actor=actor, rule=rule)
    if Status.APPROVED in (event.from_status, to):
        _public_list_changed(comment)
    event.save()
    return event


def _transition(
    comment: Comment, *, to: Status, action: str, reason: str, actor: Actor, rule: str
) -> ModerationEvent:
    """Move a comment to a status; return its audit event, not yet saved.

    The caller saves both and makes the public list stale if approved is either side.
    """
    from_status = Status(comment.status)
    if to == Status.TRASH and from_status != Status.TRASH:
        comment.status_before_trash = from_status
    elif to != Status.TRASH:
        comment.status_before_trash = ""
    comment.status = to
    comment.status_changed_at = timezone.now()
    user = cast("User", actor) if actor is not None and actor.is_authenticated else None
    return ModerationEvent(
        comment=comment,
        actor=user,
        rule=rule,
        action=action,
        from_status=from_status,
        to_status=to,
        reason=reason[:500],
    )


def _public_list_changed(comment: Comment) -> None:
    """Make the article's cached public list stale once this transaction commits."""
    key = comment.article.key
    transaction.on_commit(lambda: public_list_cache_bump(article_key=key))


def _notify_after_commit(comment: Comment, kind: Notification.Kind) -> None:
    notification, created = Notification.objects.get_or_create(comment=comment, kind=kind)
    if created:
        enqueue_on_commit(tasks.send_notification, notification.pk)


def _notify_parent_author(comment: Comment) -> None:
    parent = comment.parent
    if parent is None or not parent.notify_replies:
        return
    if parent.author_email == comment.author_email:
        return
    _notify_after_commit(comment, Notification.Kind.REPLY)


# A task batches unchecked comments created this long before its own, or later.
BATCH_WINDOW = timedelta(seconds=10)
# What comment_moderate changes besides checked_at; the rest of the row is kept.
_MODERATED_FIELDS = [
    "body_html",
    "spam_score",
    "reasons",
    "status",
    "status_before_trash",
    "status_changed_at",
]


def _claim_unchecked(*, comment_id: int, limit: int) -> list[Comment]:
    """Lock the comment if still unchecked, then up to ``limit - 1`` other unchecked ones
    created at most BATCH_WINDOW before it or later, oldest first; [] if it was done.

    The window keeps an old backlog (comments whose tasks were lost) out of fresh
    batches, so a reader's comment never waits behind it; the sweep queues that backlog
    oldest first, and each of its tasks takes the next stretch. Rows another transaction
    holds (a moderator deciding, another task's batch) are skipped, so parallel tasks take
    disjoint batches. The claim is the row lock until the decisions (with ``checked_at``)
    commit: an error or a dead worker rolls it back. Written-out SQL: most tasks find their
    comment decided by another task's batch, and building the ORM query cost more than that.
    """
    lock = connection.features.has_select_for_update_skip_locked
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_OWN_SQL + _SKIP_LOCKED * lock, [comment_id])
        if cursor.fetchone() is None:
            return []
        claimed = _comments_loaded([comment_id])
        if limit > 1:
            since = claimed[0].created_at - BATCH_WINDOW
            params = [_created_at.get_db_prep_value(since, connection), comment_id, limit - 1]
            cursor.execute(_CLAIM_OTHERS_SQL + _SKIP_LOCKED * lock, params)
            claimed += _comments_loaded([row[0] for row in cursor.fetchall()])
    return claimed


_CLAIM_OWN_SQL = """SELECT id FROM comments_comment
    WHERE id = %s AND status = 'pending' AND checked_at IS NULL"""
_CLAIM_OTHERS_SQL = """SELECT id FROM comments_comment
    WHERE status = 'pending' AND checked_at IS NULL AND created_at >= %s AND id <> %s
    ORDER BY created_at, id LIMIT %s"""
_SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"
_created_at = cast("Field[Any, Any]", Comment._meta.get_field("created_at"))
# What comment_moderate writes, in _DECISION_SQL's order.
_DECISION_FIELDS = [
    cast("Field[Any, Any]", Comment._meta.get_field(name))
    for name in [*_MODERATED_FIELDS, "checked_at"]
]
_DECISION_SQL = """UPDATE comments_comment SET body_html = %s, spam_score = %s, reasons = %s,
    status = %s, status_before_trash = %s, status_changed_at = %s, checked_at = %s
    WHERE id = %s"""


def _comments_loaded(ids: list[int]) -> list[Comment]:
    loaded = Comment.objects.select_related("article", "parent").in_bulk(ids)
    return [loaded[pk] for pk in ids if pk in loaded]


def _decisions_save(comments: list[Comment]) -> None:
    """Write each comment's decided columns: one statement, many rows (pipelined)."""
    rows = [
        [f.get_db_prep_save(getattr(c, f.attname), connection) for f in _DECISION_FIELDS] + [c.pk]
        for c in comments
    ]
    with connection.cursor() as cursor:
        cursor.executemany(_DECISION_SQL, rows)


def _batch_size() -> int:
    # An Akismet outage retries the comment's own task with backoff, and its last try
    # holds the comment: with Akismet asked, a task decides only its own comment.
    return 1 if akismet.akismet_enabled() else settings.REEX_MODERATION_BATCH


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
    now = timezone.now()
    words = moderation_words()
    events = []
    for comment in claimed:
        own_last_attempt = last_attempt and comment.pk == comment_id
        events.append(_moderated(comment, now=now, words=words, last_attempt=own_last_attempt))
    _decisions_save(claimed)
    ModerationEvent.objects.bulk_create(events)
    for key in {c.article.key for c in claimed if c.status == Status.APPROVED}:
        transaction.on_commit(partial(public_list_cache_bump, article_key=key))
    for comment in claimed:
        if comment.status == Status.PENDING:
            _notify_after_commit(comment, Notification.Kind.MODERATORS)
        elif comment.status == Status.APPROVED:
            _notify_parent_author(comment)
    return next((comment for comment in claimed if comment.pk == comment_id), None)


def _moderated(
    comment: Comment, *, now: datetime, words: Words, last_attempt: bool
) -> ModerationEvent:
    """Sanitise and decide a claimed comment; return its audit event, not yet saved."""
    comment.checked_at = now
    comment.body_html = sanitize(comment.body)
    review = Review(comment=comment, last_attempt=last_attempt, words=words)
    decision = moderation_decide(review)
    comment.spam_score, comment.reasons = review.spam_score, review.reasons
    return _transition(
        comment,
        to=decision.status,
        action="check",
        reason=decision.reason,
        actor=None,
        rule=decision.rule,
    )


def _locked(comment: Comment) -> Comment:
    locked = Comment.objects.select_for_update().get(pk=comment.pk)
    # A moderator may decide before the task has run: sanitise in the same step.
    if locked.checked_at is None:
        locked.checked_at = timezone.now()
        locked.body_html = sanitize(locked.body)
    return locked


def _decide(comment: Comment, *, to: Status, action: str, actor: Actor, reason: str) -> Comment:
    locked = _locked(comment)
    return _apply(locked, to=to, action=action, actor=actor, reason=reason)


def _apply(locked: Comment, *, to: Status, action: str, actor: Actor, reason: str) -> Comment:
    if locked.status == to:
        locked.save()
        return locked
    event = _record(locked, to=to, action=action, reason=reason, actor=actor)
    locked.save()
    comment_decision_recorded(comment=locked, event=event)
    if to == Status.APPROVED:
        _notify_parent_author(locked)
    return locked


@transaction.atomic
def comment_approve(*, comment: Comment, actor: Actor) -> Comment:
    """Publish a comment."""
    return _decide(comment, to=Status.APPROVED, action="approve", actor=actor, reason="Approved.")


@transaction.atomic
def comment_mark_spam(*, comment: Comment, actor: Actor) -> Comment:
    """Mark a comment as spam."""
    return _decide(comment, to=Status.SPAM, action="spam", actor=actor, reason="Marked spam.")


@transaction.atomic
def comment_mark_ham(*, comment: Comment, actor: Actor) -> Comment:
    """Say a comment is not spam: it is published, and the decision teaches the filters."""
    reason = "Marked not spam."
    return _decide(comment, to=Status.APPROVED, action="ham", actor=actor, reason=reason)


@transaction.atomic
def comment_trash(*, comment: Comment, actor: Actor) -> Comment:
    """Move a comment to the trash, remembering its status for restore."""
    return _decide(comment, to=Status.TRASH, action="trash", actor=actor, reason="Trashed.")


@transaction.atomic
def comment_restore(*, comment: Comment, actor: Actor) -> Comment:
    """Take a comment out of the trash, back to the status it had."""
    locked = _locked(comment)
    if locked.status != Status.TRASH:
        raise InvalidTransition("Only a trashed comment can be restored.")
    to = Status(locked.status_before_trash or Status.PENDING)
    return _apply(locked, to=to, action="restore", actor=actor, reason="Restored.")


def comment_decision_recorded(*, comment: Comment, event: ModerationEvent) -> None:
    """Report a moderator's decision (approve, spam, ham, trash, restore), once audited.

    It runs inside the decision's transaction, after the event is saved. The classifier
    learns from the saved events (the retraining counts and reads them); Akismet is told
    about spam it missed and real comments it or the filters caught, after commit.
    """
    feedback = akismet.akismet_feedback_kind(event=event)
    if feedback is not None and akismet.akismet_enabled():
        # A broker outage must not turn the committed decision into a 500.
        enqueue_on_commit(tasks.akismet_feedback, comment.pk, feedback)
    logger.info(
        "comment %s: %s by %s (%s -> %s)",
        comment.pk,
        event.action,
        event.actor_label,
        event.from_status,
        event.to_status,
    )


MODERATOR_ACTIONS: dict[str, Callable[..., Comment]] = {
    "approve": comment_approve,
    "spam": comment_mark_spam,
    "ham": comment_mark_ham,
    "trash": comment_trash,
    "restore": comment_restore,
}


def comment_moderator_action(*, comment: Comment, action: str, actor: Actor) -> Comment:
    """Apply one of MODERATOR_ACTIONS by name."""
    return MODERATOR_ACTIONS[action](comment=comment, actor=actor)


# --- periodic work --------------------------------------------------------------------


def comment_requeue_unchecked(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Queue moderation again for comments left unchecked (the broker was down); count them."""
    cutoff = timezone.now() - older_than
    stuck = Comment.objects.filter(status=Status.PENDING, checked_at=None, created_at__lt=cutoff)
    ids = list(stuck.order_by("created_at", "id").values_list("pk", flat=True)[:1000])
    # Each task decides a batch: its own comment and the next unchecked ones.
    for comment_id in ids[:: _batch_size()]:
        tasks.moderate_comment.delay(comment_id)
    return len(ids)


def comment_purge_spam(*, now: datetime | None = None) -> int:
    """Delete spam older than REEX_SPAM_RETENTION_DAYS (0 keeps spam forever)."""
    days = settings.REEX_SPAM_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = Comment.objects.filter(status=Status.SPAM, status_changed_at__lt=cutoff)
    deleted = old.delete()[1].get("comments.Comment", 0)
    return deleted


@transaction.atomic
def comment_notifications_stop(*, comment_id: int, email: str) -> int:
    """Stop reply notifications to this address for the whole thread of a comment."""
    comment = Comment.objects.filter(pk=comment_id, author_email=email.lower()).first()
    if comment is None:
        return 0
    root_id = comment.root_id or comment.pk
    thread = Q(pk=root_id) | Q(root_id=root_id)
    mine = Comment.objects.filter(thread, author_email=comment.author_email)
    return mine.update(notify_replies=False)


# --- notifications --------------------------------------------------------------------


def _claim_notification(notification_id: int, *, now: datetime) -> bool:
    free = Q(claimed_at=None) | Q(claimed_at__lt=now - NOTIFICATION_LEASE)
    unsent = Notification.objects.filter(free, pk=notification_id, sent_at=None)
    claimed = unsent.update(claimed_at=now, attempted_at=now, attempts=F("attempts") + 1)
    return claimed == 1


def notification_send(*, notification_id: int) -> bool:
    """Send one notification email unless another worker has or is sending it.

    Returns whether this call did the work. A failure releases the claim and re-raises,
    so the task's retry (or the sweep) sends it later.
    """
    if not _claim_notification(notification_id, now=timezone.now()):
        return False
    notification = Notification.objects.select_related("comment__article", "comment__parent")
    row = notification.get(pk=notification_id)
    try:
        message = emails.notification_message(row)
        if message is not None:
            message.send()
    except Exception as error:
        Notification.objects.filter(pk=notification_id).update(
            claimed_at=None, last_error=str(error)[:_ERROR_TEXT_LIMIT]
        )
        raise
    Notification.objects.filter(pk=notification_id).update(sent_at=timezone.now(), last_error="")
    return True


def notification_requeue_unsent(*, now: datetime | None = None) -> int:
    """Queue again notifications never attempted (broker down) or abandoned (retries ran out)."""
    now = now or timezone.now()
    never_tried = Q(attempted_at=None, created_at__lt=now - timedelta(minutes=2))
    # Retries back off to at most 10 minutes: an hour without an attempt means they ran out.
    abandoned = Q(claimed_at=None, attempted_at__lt=now - timedelta(hours=1))
    lapsed = Q(claimed_at__lt=now - NOTIFICATION_LEASE)
    unsent = Notification.objects.filter(never_tried | abandoned | lapsed, sent_at=None)
    ids = list(unsent.values_list("pk", flat=True)[:1000])
    for notification_id in ids:
        tasks.send_notification.delay(notification_id)
    return len(ids)
