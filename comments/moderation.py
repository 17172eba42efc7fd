"""The moderation pipeline: ordered checks that decide what happens to a new comment.

Each check looks at a ``Review`` and returns a ``Decision`` or None (no opinion). A check
may also record a spam score or a reason on the review without deciding. The strongest
decision wins (spam over held over approved); the first spam decision stops the run.
Moderators' own decisions are reported to ``comment_decision_recorded``.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from comments.models import Comment, ModerationEvent, ModerationWord
from comments.sanitize import count_links

logger = logging.getLogger(__name__)
Status = Comment.Status


@dataclass
class Review:
    """A comment under review; ``comment.body_html`` is already sanitised."""

    comment: Comment
    spam_score: float | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    status: Status
    rule: str
    reason: str


Check = Callable[[Review], Decision | None]


def _haystack(comment: Comment) -> str:
    fields = (
        comment.author_name,
        comment.author_email,
        comment.author_url,
        comment.body,
        comment.ip_address or "",
    )
    return "\n".join(fields).lower()


def _matching_phrase(comment: Comment, action: ModerationWord.Action) -> str | None:
    haystack = _haystack(comment)
    phrases = ModerationWord.objects.filter(action=action).values_list("phrase", flat=True)
    return next((p for p in phrases if p.strip() and p.strip().lower() in haystack), None)


def check_block_words(review: Review) -> Decision | None:
    phrase = _matching_phrase(review.comment, ModerationWord.Action.BLOCK)
    if phrase is None:
        return None
    return Decision(Status.SPAM, "block_words", f"Contains the blocked phrase “{phrase}”.")


def check_hold_words(review: Review) -> Decision | None:
    phrase = _matching_phrase(review.comment, ModerationWord.Action.HOLD)
    if phrase is None:
        return None
    return Decision(Status.PENDING, "hold_words", f"Contains the held phrase “{phrase}”.")


def check_links(review: Review) -> Decision | None:
    limit = settings.REEX_MAX_LINKS
    links = count_links(review.comment.body_html)
    if limit <= 0 or links < limit:
        return None
    return Decision(Status.PENDING, "max_links", f"Has {links} links (limit {limit}).")


def _has_approved_comment(comment: Comment) -> bool:
    others = Comment.objects.filter(author_email=comment.author_email, status=Status.APPROVED)
    return others.filter(~Q(pk=comment.pk)).exists()


def check_moderation_mode(review: Review) -> Decision | None:
    mode = settings.REEX_MODERATION_MODE
    if mode == "all":
        return Decision(Status.PENDING, "moderation_mode", "Every comment is held (mode all).")
    if mode == "first" and not _has_approved_comment(review.comment):
        reason = "First comment from this author (mode first)."
        return Decision(Status.PENDING, "moderation_mode", reason)
    return None


# The pipeline, in order. The spam classifier and Akismet (issue 4) go right after the
# block words: they judge every author, previously approved or not.
CHECKS: list[Check] = [
    check_block_words,
    check_hold_words,
    check_links,
    check_moderation_mode,
]

_STRENGTH = {Status.SPAM: 2, Status.PENDING: 1, Status.APPROVED: 0}
APPROVE = Decision(Status.APPROVED, "checks_passed", "Passed every check.")


def moderation_decide(review: Review, *, checks: list[Check] | None = None) -> Decision:
    """Run the checks on a review; record every reason on it and return the verdict."""
    verdict = APPROVE
    for check in CHECKS if checks is None else checks:
        decision = check(review)
        if decision is None:
            continue
        review.reasons.append(decision.reason)
        if _STRENGTH[decision.status] > _STRENGTH[verdict.status]:
            verdict = decision
        if decision.status == Status.SPAM:
            break
    if verdict is APPROVE:
        review.reasons.append(APPROVE.reason)
    return verdict


def comment_decision_recorded(*, comment: Comment, event: ModerationEvent) -> None:
    """Hook called after each moderator decision (approve, spam, ham, trash, restore).

    It runs inside the decision's transaction, after the event is saved. Learning from
    moderators (the spam classifier, Akismet's submit-spam/ham) starts here; queue slow
    work with ``delay_on_commit``.
    """
    logger.info(
        "comment %s: %s by %s (%s -> %s)",
        comment.pk,
        event.action,
        event.actor_label,
        event.from_status,
        event.to_status,
    )
