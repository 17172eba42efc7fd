"""Articles and readers' comments: saved here, checked later by the moderation tasks."""

import math
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from comments import sql, sql_submit, tasks
from comments.models import Article, Comment, ModerationEvent
from comments.sanitize import sanitize
from comments.selectors import article_accepts_comments
from comments.services.errors import CommentFlood, CommentsClosed, DuplicateComment
from comments.services.site_articles import article_get_or_create_for_comment
from comments.services.transitions import public_list_changed
from comments.tokens import edit_secret_new, edit_token_make
from reex.addresses import email_normalise
from reex.db import advisory_xact_lock
from reex.wakeup import wake_on_commit

Status = Comment.Status
# What the reader typed; every other field is set here and needs no check.
_READER_FIELDS = ("author_name", "author_email", "author_url", "body")
_NOT_TYPED = frozenset(f.name for f in Comment._meta.fields if f.name not in _READER_FIELDS)


@transaction.atomic
def article_upsert(
    *,
    key: str,
    title: str,
    url: str,
    published_at: datetime,
    comments_open: bool,
    summary: str | None = None,
    image_url: str | None = None,
    author: str | None = None,
) -> tuple[Article, bool]:
    """Create or update the article with this key; return it and whether it was created.

    ``summary``, ``image_url`` and ``author`` left None keep what the article has (a
    feed may have set them).
    """
    article = Article.objects.select_for_update().filter(key=key).first()
    created = article is None
    if article is None:
        article = Article(key=key)
    article.title, article.url, article.title_wanted = title, url, False
    article.published_at, article.comments_open = published_at, comments_open
    optional = {"summary": summary, "image_url": image_url, "author": author}
    for name, value in optional.items():
        if value is not None:
            setattr(article, name, value)
    article.full_clean()
    article.save()
    return article, created


def comment_body_normalise(body: str) -> str:
    """Return a comment's text as stored: line breaks as ``\\n``, trimmed."""
    return body.replace("\r\n", "\n").replace("\r", "\n").strip()


def _typed(*, author_name: str, author_email: str, author_url: str, body: str) -> dict[str, str]:
    """Return what the reader typed in its stored form."""
    return {
        "author_name": author_name.strip(),
        "author_email": email_normalise(author_email),
        "author_url": author_url.strip(),
        "body": comment_body_normalise(body),
    }


def _parent_errors(*, article: Article, parent_id: int | None) -> tuple[Comment | None, list]:
    if parent_id is None:
        return None, []
    parent = Comment.objects.filter(pk=parent_id, article=article, status=Status.APPROVED).first()
    if parent is None:
        return None, ["Reply to an approved comment of this article."]
    if parent.depth + 1 > settings.REEX_MAX_REPLY_DEPTH:
        return None, [f"Replies nest at most {settings.REEX_MAX_REPLY_DEPTH} levels deep."]
    return parent, []


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


def _lock_author(comment: Comment) -> None:
    """Take the author's address and IP in turn until commit, whatever the article.

    The article lock serialises posts to one article; this one serialises one author's
    posts to different articles, so the flood check reads what a parallel post wrote.
    """
    names = [f"comments.flood.email:{comment.author_email}"]
    if comment.ip_address:
        names.append(f"comments.flood.ip:{comment.ip_address}")
    advisory_xact_lock(connection, names)


def _insert_unless_repeat(comment: Comment, *, now: datetime) -> None:
    """Insert the comment unless it duplicates one not trashed or floods; then raise."""
    seconds = settings.REEX_COMMENT_FLOOD_SECONDS
    if seconds > 0:
        _lock_author(comment)
    since = now - timedelta(seconds=seconds) if seconds > 0 else None
    if sql_submit.comment_insert_unless_repeat(comment, flood_since=since):
        return
    duplicate, last = sql.comment_repeat_read(comment=comment, flood_since=since)
    if duplicate:
        raise DuplicateComment("You already posted this comment.")
    if last is not None:
        wait = math.ceil((last + timedelta(seconds=seconds) - now).total_seconds())
        message = "You are posting comments too quickly. Slow down."
        raise CommentFlood(message, retry_after=max(wait, 1))
    sql_submit.comment_insert(comment)


@transaction.atomic
def comment_submit(
    *, article_key: str, article_url: str = "", article_title: str = "", **fields: Any
) -> Comment:
    """Do what comment_create does for the article with this key, found and locked at once.

    One round trip less than a lookup and then comment_create. With ``article_url`` (the
    embed's page) an unknown article under ``REEX_SITE_URLS`` is created first; the
    browser's ``article_title`` is only a hint. Raises Article.DoesNotExist and whatever
    comment_create raises.
    """
    article = sql_submit.article_lock(key=article_key)
    if article is None:
        if not article_url:
            raise Article.DoesNotExist(f"No article {article_key!r}.")
        article_get_or_create_for_comment(
            key=article_key, url=article_url, title_hint=article_title
        )
        article = sql_submit.article_lock(key=article_key)
        if article is None:
            raise Article.DoesNotExist(f"No article {article_key!r}.")
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
    (per field), DuplicateComment or CommentFlood. The comment returned carries the
    author's ``edit_token`` while edits are allowed (REEX_EDIT_WINDOW_MINUTES).
    """
    typed = _typed(
        author_name=author_name, author_email=author_email, author_url=author_url, body=body
    )
    # Within comment_submit's transaction a savepoint would only cost two round trips.
    with transaction.atomic(savepoint=not article_locked):
        now = timezone.now()
        if not article_accepts_comments(article=article, now=now):
            raise CommentsClosed("Comments are closed for this article.")
        comment = Comment(
            article=article,
            **typed,
            notify_replies=notify_replies,
            ip_address=ip,
            user_agent=user_agent[:500],
            referrer=referrer[:500],
            created_at=now,
            status_changed_at=now,
        )
        # One submission per article at a time: the duplicate and flood checks read what an
        # earlier submission wrote, so two parallel posts cannot both pass them; and the
        # parent is read under the lock its author's edit or delete takes.
        if not article_locked:
            list(Article.objects.select_for_update().filter(pk=article.pk).values_list("pk"))
        _validated(comment, parent_id=parent_id)
        secret = _edit_secret(comment)
        _insert_unless_repeat(comment, now=now)
        if secret:
            comment.edit_token = edit_token_make(comment_id=comment.pk, secret=secret)
        wake_on_commit(tasks.moderate_comment, comment.pk, name="moderation")
        return comment


def _edit_secret(comment: Comment) -> str:
    """Give the comment an edit key (its hash) if authors may edit; return the secret."""
    if settings.REEX_EDIT_WINDOW_MINUTES <= 0:
        return ""
    secret, comment.edit_key_hash = edit_secret_new()
    return secret


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
    typed = _typed(
        author_name=author_name, author_email=author_email, author_url=author_url, body=body
    )
    comment = Comment(
        article=article,
        parent=parent,
        root_id=(parent.root_id or parent.pk) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        **typed,
        body_html=sanitize(typed["body"]),
        status=status,
        status_changed_at=now,
        checked_at=now,
        created_at=created_at or now,
    )
    comment.full_clean()
    comment.save()
    if status == Status.APPROVED:
        public_list_changed(comment)
    ModerationEvent.objects.create(
        comment=comment,
        rule="import",
        action="import",
        from_status=Status.PENDING,
        to_status=status,
        reason="Imported as already moderated.",
    )
    return comment
