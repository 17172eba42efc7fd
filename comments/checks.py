"""The moderation pipeline: ordered checks that decide what happens to a new comment.

Each check looks at a ``Review`` and returns a ``Decision`` or None (no opinion). A check
may also record a spam score or a reason on the review without deciding. The strongest
decision wins (spam over held over approved); the first spam decision stops the run.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from comments.models import Comment, ModerationWord
from comments.sanitize import count_links
from comments.selectors import ban_active_for
from comments.spam import akismet, versions

Status = Comment.Status
Words = dict[str, list[str]]


@dataclass
class Review:
    """A comment under review; ``comment.body_html`` is already sanitised."""

    comment: Comment
    spam_score: float | None = None
    reasons: list[str] = field(default_factory=list)
    # The task's last try: a check whose service is down holds instead of raising.
    last_attempt: bool = False
    # Block and hold phrases by action, read once per review or batch (one query for both).
    words: Words | None = None


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


def moderation_words() -> Words:
    """Return the block and hold phrases by action, in the model's order (one query)."""
    words: Words = {action: [] for action in ModerationWord.Action}
    for action, phrase in ModerationWord.objects.values_list("action", "phrase"):
        words.setdefault(action, []).append(phrase)
    return words


def _words(review: Review) -> Words:
    if review.words is None:
        review.words = moderation_words()
    return review.words


def _matching_phrase(review: Review, action: ModerationWord.Action) -> str | None:
    haystack = _haystack(review.comment)
    phrases = _words(review)[action]
    return next((p for p in phrases if p.strip() and p.strip().lower() in haystack), None)


def check_banned(review: Review) -> Decision | None:
    """Banned authors' comments go to spam; they were told the usual 202 all the same."""
    comment = review.comment
    ban = ban_active_for(email=comment.author_email, ip=comment.ip_address)
    if ban is None:
        return None
    return Decision(Status.SPAM, "banned", f"banned ({ban.target}).")


def check_block_words(review: Review) -> Decision | None:
    phrase = _matching_phrase(review, ModerationWord.Action.BLOCK)
    if phrase is None:
        return None
    return Decision(Status.SPAM, "block_words", f"Contains the blocked phrase “{phrase}”.")


def check_spam_classifier(review: Review) -> Decision | None:
    model = versions.spam_model_current()
    if model is None:
        return None
    score = model.score(versions.comment_sample(review.comment))
    review.spam_score = score
    if score >= settings.REEX_SPAM_THRESHOLD:
        reason = f"Spam score {score:.2f} (spam from {settings.REEX_SPAM_THRESHOLD:.2f})."
        return Decision(Status.SPAM, "spam_classifier", reason)
    if score >= settings.REEX_HOLD_THRESHOLD:
        reason = f"Spam score {score:.2f} (held from {settings.REEX_HOLD_THRESHOLD:.2f})."
        return Decision(Status.PENDING, "spam_classifier", reason)
    return None


def check_akismet(review: Review) -> Decision | None:
    """Ask Akismet when configured; an outage raises (the task retries) until the last try."""
    if not akismet.akismet_enabled():
        return None
    try:
        is_spam = akismet.akismet_check(review.comment)
    except akismet.AkismetUnavailable as error:
        if not review.last_attempt:
            raise
        reason = f"Akismet could not be asked ({error}); held for a human."
        return Decision(Status.PENDING, "akismet", reason)
    if is_spam:
        return Decision(Status.SPAM, "akismet", "Akismet says spam.")
    return None


def check_hold_words(review: Review) -> Decision | None:
    phrase = _matching_phrase(review, ModerationWord.Action.HOLD)
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


# The pipeline, in order. Bans first: nothing else need be asked. The spam classifier and
# Akismet go right after the block words: they judge every author, approved before or not.
# The first spam verdict stops the run, so Akismet is not asked about what the rules or
# the classifier already caught.
CHECKS: list[Check] = [
    check_banned,
    check_block_words,
    check_spam_classifier,
    check_akismet,
    check_hold_words,
    check_links,
    check_moderation_mode,
]
# What spam_eval measures: the same decision without the hosted service.
LOCAL_CHECKS: list[Check] = [check for check in CHECKS if check is not check_akismet]

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
