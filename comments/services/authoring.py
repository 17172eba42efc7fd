"""The author's second thoughts: editing or deleting their own comment, with the edit token
the submission answered, within REEX_EDIT_WINDOW_MINUTES and before anyone replies."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from comments import tasks
from comments.models import Article, Comment
from comments.services.errors import EditNotAllowed, EditTooLate
from comments.services.submission import comment_body_normalise
from comments.services.transitions import comment_transition, public_list_changed
from comments.tokens import edit_token_matches
from reex.wakeup import wake_on_commit

logger = logging.getLogger(__name__)
Status = Comment.Status
EDITABLE_FIELDS = ("author_name", "author_url", "body")
# A reply in these states counts: the author's words are being answered.
_LIVE = (Status.PENDING, Status.APPROVED)


def comment_edit_deadline(comment: Comment) -> datetime:
    """Return until when the author may edit or delete the comment."""
    return comment.created_at + timedelta(minutes=settings.REEX_EDIT_WINDOW_MINUTES)


def _locked_for_author(*, comment_id: int, token: str) -> Comment:
    """Return the comment locked against replies and moderation, if its author may change it.

    Raise Comment.DoesNotExist, EditNotAllowed (token) or EditTooLate (window, replies, state).
    """
    article_id = Comment.objects.values_list("article_id", flat=True).get(pk=comment_id)
    # A reply is submitted under the article's lock: taking it first means none slips in.
    list(Article.objects.select_for_update().filter(pk=article_id).values_list("pk"))
    comment = Comment.objects.select_for_update().select_related("article").get(pk=comment_id)
    if not edit_token_matches(token, comment_id=comment.pk, key_hash=comment.edit_key_hash):
        raise EditNotAllowed("This edit token is not valid for this comment.")
    if settings.REEX_EDIT_WINDOW_MINUTES <= 0 or timezone.now() > comment_edit_deadline(comment):
        raise EditTooLate("The time to edit this comment is over.", code="edit_window_closed")
    if comment.status not in _LIVE:
        raise EditTooLate("This comment can no longer be changed.", code="not_editable")
    if Comment.objects.filter(parent=comment, status__in=_LIVE).exists():
        raise EditTooLate("Someone has replied to this comment.", code="has_replies")
    return comment


def _apply_fields(comment: Comment, changes: dict[str, str]) -> None:
    """Set the edited fields as stored; raise a ValidationError naming each bad one."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown or not changes:
        raise ValidationError({"non_field_errors": ["Send author_name, author_url or body."]})
    for name, value in changes.items():
        setattr(comment, name, comment_body_normalise(value) if name == "body" else value.strip())
    others = [f.name for f in Comment._meta.fields if f.name not in changes]
    comment.clean_fields(exclude=others)


@transaction.atomic
def comment_author_edit(*, comment_id: int, token: str, changes: dict[str, str]) -> Comment:
    """Change the author's name, website or text; the comment is moderated again.

    Raise Comment.DoesNotExist, EditNotAllowed, EditTooLate or ValidationError (per field).
    """
    comment = _locked_for_author(comment_id=comment_id, token=token)
    was_public = comment.status == Status.APPROVED
    _apply_fields(comment, changes)
    event = comment_transition(
        comment,
        to=Status.PENDING,
        action="edit",
        reason="Edited by its author: moderated again.",
        actor=None,
        rule="author",
    )
    comment.checked_at, comment.body_html = None, ""
    comment.spam_score, comment.reasons = None, []
    comment.save()
    event.save()
    if was_public:
        public_list_changed(comment)
    # As for a new comment: the row is the queue, the task wakes a worker.
    wake_on_commit(tasks.moderate_comment, comment.pk, name="moderation")
    return comment


@transaction.atomic
def comment_author_delete(*, comment_id: int, token: str) -> None:
    """Delete the comment for good (nobody has answered it yet).

    Raise Comment.DoesNotExist, EditNotAllowed or EditTooLate.
    """
    comment = _locked_for_author(comment_id=comment_id, token=token)
    if comment.status == Status.APPROVED:
        public_list_changed(comment)
    logger.info("comment %s deleted by its author", comment.pk)
    comment.delete()
