"""Readers' reports: recorded once per reader, hiding a comment at the threshold, cleared
when a moderator approves it after them."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from comments.models import Comment, Flag
from comments.services.events import comment_event_reported
from comments.services.transitions import comment_transition, public_list_changed

Status = Comment.Status
REPORTED_RULE = "reader_reports"


def _open_sources(comment: Comment) -> int:
    open_flags = Flag.objects.filter(comment=comment, cleared_at=None)
    return open_flags.values("source").distinct().count()


def _hide_if_reported(comment: Comment) -> None:
    """Send the comment back to pending once enough different readers reported it."""
    if comment.reports_cleared_at is not None:
        return
    sources = _open_sources(comment)
    if sources < settings.REEX_FLAGS_TO_HOLD:
        return
    reason = f"Reported by {sources} readers; hidden until a moderator decides."
    event = comment_transition(
        comment,
        to=Status.PENDING,
        action="reported",
        reason=reason,
        actor=None,
        rule=REPORTED_RULE,
    )
    comment.save(update_fields=["status", "status_before_trash", "status_changed_at"])
    event.save()
    public_list_changed(comment)


@transaction.atomic
def flag_create(
    *, comment_id: int, reason: str, detail: str, reporter: str, source: str
) -> Flag | None:
    """Record a reader's report of a published comment; None when it is not published.

    A reader's repeat report returns their first one and changes nothing. The caller
    answers a missing, pending, spam or trashed comment the same way.
    """
    flag = Flag(reason=reason, detail=detail.strip(), reporter=reporter, source=source)
    # Fields first: a bad report is refused the same whatever the comment is.
    flag.full_clean(exclude=["comment"], validate_unique=False, validate_constraints=False)
    comment = Comment.objects.select_for_update().select_related("article")
    locked = comment.filter(pk=comment_id, status=Status.APPROVED).first()
    if locked is None:
        return None
    flag.comment = locked
    existing = Flag.objects.filter(comment=locked, reporter=reporter).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            flag.save()
    except IntegrityError:
        # The same reader's concurrent report won the race (the comment lock covers most).
        return Flag.objects.get(comment=locked, reporter=reporter)
    _hide_if_reported(locked)
    reports = Flag.objects.filter(comment=locked, cleared_at=None).count()
    comment_event_reported(locked, reports=reports, reason=flag.get_reason_display())
    return flag


def flags_clear(*, comment: Comment) -> int:
    """Clear a comment's open reports on a moderator's approval; count them.

    Once cleared, later reports are recorded but no longer hide the comment. Call it
    inside the approval's transaction, with the comment locked.
    """
    now = timezone.now()
    cleared = Flag.objects.filter(comment=comment, cleared_at=None).update(cleared_at=now)
    if cleared and comment.reports_cleared_at is None:
        comment.reports_cleared_at = now
        Comment.objects.filter(pk=comment.pk).update(reports_cleared_at=now)
    return cleared
