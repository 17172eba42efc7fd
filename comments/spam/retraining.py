"""Retraining the spam filter on the moderators' decisions, gated by the held-back ones,
and how moderators judged its verdicts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from comments.models import Comment, ModerationEvent, SpamModelVersion
from comments.spam.evaluation import evaluate
from comments.spam.features import SpamSample
from comments.spam.model import SpamModel, SpamModelError
from comments.spam.training import train
from comments.spam.versions import (
    TEACHING_ACTIONS,
    cross_validated,
    decided_samples,
    moderator_decided_comments,
    reported_samples,
    rows_unpack,
    spam_model_save,
    thresholds,
    trained_on,
)

logger = logging.getLogger(__name__)
Status = Comment.Status
# Retraining holds back every HOLD_BACK-th moderator decision to compare old and new on.
HOLD_BACK = 5
# What an error costs when comparing two versions on the held-back decisions: burying a
# real reader is the worst, publishing spam next, a comment held for a human the least.
ERROR_COSTS = {"ham_marked_spam": 10.0, "spam_approved": 3.0, "ham_held": 1.0, "spam_held": 1.0}


def error_cost(result: dict[str, float | int]) -> float:
    return sum(weight * float(result[key]) for key, weight in ERROR_COSTS.items())


def decisions_since_current() -> int:
    """Count the moderator decisions made since the current version was trained."""
    current = SpamModelVersion.objects.filter(is_current=True).values_list("created_at", flat=True)
    since = current.first()
    events = ModerationEvent.objects.filter(actor__isnull=False, action__in=TEACHING_ACTIONS)
    return (events if since is None else events.filter(created_at__gt=since)).count()


@dataclass(frozen=True)
class RetrainOutcome:
    switched: bool
    reason: str
    version: SpamModelVersion | None = None


def spam_filter_retrain(*, force: bool = False) -> RetrainOutcome:
    """Retrain on the moderators' decisions when enough accumulated (or when forced).

    Every HOLD_BACK-th decision is held back; a candidate trained on the rest must not be
    worse than the current version on them (ERROR_COSTS at the current thresholds).
    The version switched in is then trained on everything. A current version this code
    cannot load (built for older features: the workers run on the rules alone meanwhile)
    is replaced at once, from its stored rows, without a comparison.
    """
    current = SpamModelVersion.objects.filter(is_current=True).first()
    previous = _loadable(current)
    pending = decisions_since_current()
    stale = current is not None and previous is None
    if not (force or stale) and pending < settings.REEX_SPAM_RETRAIN_AFTER:
        return RetrainOutcome(False, f"{pending} new decisions, fewer than needed.")
    rows = rows_unpack(bytes(current.training_rows)) if current else []
    decided = moderator_decided_comments()
    held = [c for c in decided if c.pk % HOLD_BACK == 0]
    kept = [c for c in decided if c.pk % HOLD_BACK != 0]
    reported = reported_samples(decided=decided)
    training = [s for _, s in rows] + decided_samples(kept) + reported
    if len({s.label for s in training}) < 2:
        return RetrainOutcome(False, "Training needs both spam and not-spam examples.")
    gate = _gate(current, previous, train(training), decided_samples(held))
    if gate is not None and not gate["switch"]:
        return RetrainOutcome(False, "The new model is worse on the held-back decisions.")
    return _retrain_switch(current, rows, decided, reported, gate)


def _loadable(version: SpamModelVersion | None) -> SpamModel | None:
    if version is None:
        return None
    try:
        return SpamModel.from_bytes(bytes(version.parameters))
    except SpamModelError as error:
        logger.warning("spam filter version %s is replaced unread: %s", version.version, error)
        return None


def _gate(
    current: SpamModelVersion | None,
    previous: SpamModel | None,
    candidate: SpamModel,
    held: Sequence[SpamSample],
) -> dict[str, Any] | None:
    """Compare candidate and current on the held-back samples (None: nothing to compare)."""
    if current is None or previous is None:
        return None
    new = evaluate(candidate, held, **thresholds())
    old = evaluate(previous, held, **thresholds())
    return {
        "switch": bool(held) and error_cost(new) <= error_cost(old),
        "candidate": new,
        "previous": old,
        "previous_version": current.version,
    }


def _retrain_switch(
    current: SpamModelVersion | None,
    rows: Sequence[tuple[str, SpamSample]],
    decided: Sequence[Comment],
    reported: Sequence[SpamSample],
    gate: dict[str, Any] | None,
) -> RetrainOutcome:
    samples = [s for _, s in rows] + decided_samples(decided) + list(reported)
    evaluation: dict[str, Any] = {"cross_validation": cross_validated(samples)}
    if gate is not None:
        evaluation["held_back"] = {k: v for k, v in gate.items() if k != "switch"}
    version = spam_model_save(
        model=train(samples),
        trained_on=trained_on(rows, decided_samples(decided), reported),
        evaluation=evaluation,
        rows=rows,
        created_by="retrain",
        replacing=current.pk if current else None,
    )
    if version is None:
        return RetrainOutcome(False, "Another version became current meanwhile.")
    return RetrainOutcome(True, f"Switched to version {version.version}.", version)


# --- how moderators judged its decisions ------------------------------------------------


def spam_filter_reversals(*, days: int = 30, now: datetime | None = None) -> dict[str, Any]:
    """Count the classifier's verdicts of the last days and how many moderators reversed.

    Marked spam and then approved by a moderator, or let through (scored below the hold
    threshold) and then marked spam by a moderator, count as reversed. Held comments are
    the filter asking a human, so they are counted apart.
    """
    since = (now or timezone.now()) - timedelta(days=days)
    checks = ModerationEvent.objects.filter(
        action="check", created_at__gte=since, comment__spam_score__isnull=False
    )
    moderator = ModerationEvent.objects.filter(
        comment=OuterRef("comment"), actor__isnull=False, created_at__gte=OuterRef("created_at")
    )
    by_filter = Q(rule="spam_classifier")
    result: dict[str, Any] = {
        "marked_spam": checks.filter(by_filter, to_status=Status.SPAM).count(),
        "spam_approved": checks.filter(
            by_filter, Exists(moderator.filter(to_status=Status.APPROVED)), to_status=Status.SPAM
        ).count(),
        "held": checks.filter(by_filter, to_status=Status.PENDING).count(),
        "passed": checks.exclude(by_filter).count(),
        "passed_marked_spam": checks.exclude(by_filter)
        .filter(Exists(moderator.filter(to_status=Status.SPAM)))
        .count(),
    }
    judged = result["marked_spam"] + result["passed"]
    reversed_ = result["spam_approved"] + result["passed_marked_spam"]
    result["reversal_rate"] = reversed_ / judged if judged else None
    result["days"] = days
    return result
