"""Moderators' decisions: approve, spam, not spam, trash, restore. Each is audited, and
what it teaches Akismet is reported after commit."""

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from comments.models import Comment, ModerationEvent
from comments.sanitize import sanitize
from comments.services.errors import InvalidTransition
from comments.services.events import comment_event_approved
from comments.services.feedback import akismet_feedback_queue
from comments.services.flags import flags_clear
from comments.services.notifications import reply_notification_queue
from comments.services.transitions import Actor, comment_transition, public_list_changed
from comments.spam import akismet

logger = logging.getLogger(__name__)
Status = Comment.Status


def _locked(comment: Comment) -> Comment:
    locked = Comment.objects.select_for_update().get(pk=comment.pk)
    # A moderator may decide before the task has run: sanitise in the same step.
    if locked.checked_at is None:
        locked.checked_at = timezone.now()
        locked.body_html = sanitize(locked.body)
    return locked


def _apply(locked: Comment, *, to: Status, action: str, actor: Actor, reason: str) -> Comment:
    if to == Status.APPROVED:
        flags_clear(comment=locked)  # approved after reports: they no longer hide it
    if locked.status == to:
        locked.save()
        return locked
    event = comment_transition(locked, to=to, action=action, reason=reason, actor=actor)
    if Status.APPROVED in (event.from_status, to):
        public_list_changed(locked)
    event.save()
    locked.save()
    comment_decision_recorded(comment=locked, event=event)
    if to == Status.APPROVED:
        reply_notification_queue(locked)
        comment_event_approved(locked)
    return locked


def _decide(comment: Comment, *, to: Status, action: str, actor: Actor, reason: str) -> Comment:
    return _apply(_locked(comment), to=to, action=action, actor=actor, reason=reason)


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


def comment_decision_recorded(*, comment: Comment, event: ModerationEvent) -> None:
    """Report a moderator's decision (approve, spam, ham, trash, restore), once audited.

    It runs inside the decision's transaction, after the event is saved. The classifier
    learns from the saved events (the retraining counts and reads them); Akismet is told
    about spam it missed and real comments it or the filters caught, after commit.
    """
    feedback = akismet.akismet_feedback_kind(event=event)
    if feedback is not None and akismet.akismet_enabled():
        # Owed in a row: a broker outage neither fails the decision nor loses the feedback.
        akismet_feedback_queue(comment=comment, kind=feedback)
    logger.info(
        "comment %s: %s by %s (%s -> %s)",
        comment.pk,
        event.action,
        event.actor_label,
        event.from_status,
        event.to_status,
    )
