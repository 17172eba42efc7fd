"""Undoing a moderator's own latest decision: the comment goes back to the status it had."""

from django.db import transaction

from comments.models import Comment
from comments.services.decisions import _apply, _locked
from comments.services.errors import InvalidTransition
from comments.services.transitions import Actor

Status = Comment.Status


@transaction.atomic
def comment_decision_undo(*, comment: Comment, event_id: int, actor: Actor) -> Comment:
    """Take back the decision ``event_id``: the comment returns to the status it had before.

    Only the comment's latest event can be undone, and only by the moderator who made it:
    anything that happened since (another moderator, a reader's report) would be lost.
    The undo is a decision of its own, audited (action "undo") and reported as any other.
    """
    locked = _locked(comment)
    last = locked.events.order_by("-created_at", "-id").first()
    if (
        last is None
        or last.pk != event_id
        or last.action == "undo"
        or actor is None
        or last.actor_id != actor.pk
    ):
        raise InvalidTransition("Only your own latest decision on this comment can be undone.")
    to = Status(last.from_status)
    reason = f"Undid {last.action or 'the decision'}."
    return _apply(locked, to=to, action="undo", actor=actor, reason=reason)
