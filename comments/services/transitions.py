"""Moving a comment between statuses: the audit event and the stale public list."""

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from comments.models import Comment, ModerationEvent
from comments.public_cache import public_list_cache_bump

if TYPE_CHECKING:
    from django.contrib.auth.models import User

Status = Comment.Status
Actor = AbstractBaseUser | AnonymousUser | None


def comment_transition(
    comment: Comment, *, to: Status, action: str, reason: str, actor: Actor, rule: str = ""
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
    return ModerationEvent(
        comment=comment,
        actor=actor_user(actor),
        rule=rule,
        action=action,
        from_status=from_status,
        to_status=to,
        reason=reason[:500],
    )


def actor_user(actor: Actor) -> "User | None":
    """Return the signed-in user an actor is, or None (a rule, an anonymous request)."""
    return cast("User", actor) if actor is not None and actor.is_authenticated else None


def public_list_changed(comment: Comment) -> None:
    """Make the article's cached public list stale once this transaction commits."""
    public_lists_changed([comment.article.key])


def public_lists_changed(article_keys: Iterable[str]) -> None:
    """Make these articles' cached public lists stale once this transaction commits."""
    for key in set(article_keys):
        transaction.on_commit(partial(public_list_cache_bump, article_key=key))
