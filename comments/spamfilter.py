"""The spam filter's database side: stored versions, the worker's loader, training data,
training and the gated retraining. The maths lives in comments.spam.

What a version is trained on: the labelled rows of the CSV files given to ``spam_train``
(kept with the version, so that retraining does not need the files) plus every comment a
moderator decided (approve or not spam = ham, spam = spam; its status now is the label).
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from sklearn.model_selection import StratifiedKFold

from comments import spam
from comments.models import Comment, ModerationEvent, SpamModelVersion

logger = logging.getLogger(__name__)
Status = Comment.Status
# The moderator actions that say what a comment is (trash and restore say nothing).
TEACHING_ACTIONS = ("approve", "ham", "spam")
# Retraining holds back every HOLD_BACK-th moderator decision to compare old and new on.
HOLD_BACK = 5
# What an error costs when comparing two versions on the held-back decisions: burying a
# real reader is the worst, publishing spam next, a comment held for a human the least.
ERROR_COSTS = {"ham_marked_spam": 10.0, "spam_approved": 3.0, "ham_held": 1.0, "spam_held": 1.0}
Progress = Callable[[Iterable[Any], str], Iterable[Any]]


def _no_progress(items: Iterable[Any], _label: str) -> Iterable[Any]:
    return items


def comment_sample(comment: Comment, *, label: bool | None = None) -> spam.SpamSample:
    """Return what the classifier sees of a comment (the raw text, never the HTML)."""
    return spam.SpamSample(
        body=comment.body,
        author_name=comment.author_name,
        author_email=comment.author_email,
        author_url=comment.author_url,
        label=label,
    )


# --- the worker's loader ----------------------------------------------------------------


@dataclass
class _Loaded:
    key: tuple[int, datetime] | None = None
    model: spam.SpamModel | None = None
    checked_at: float = -math.inf


_loaded = _Loaded()


def spam_model_current() -> spam.SpamModel | None:
    """Return the current classifier, or None on a site without one (rules only).

    The loaded model is kept per process and keyed by its version; at most every
    REEX_SPAM_MODEL_CHECK_SECONDS one indexed query asks which version is current, so a
    new version reaches running workers without a restart.
    """
    now = time.monotonic()
    if now - _loaded.checked_at < settings.REEX_SPAM_MODEL_CHECK_SECONDS:
        return _loaded.model
    current = SpamModelVersion.objects.filter(is_current=True)
    key = current.values_list("pk", "created_at").first()
    if key != _loaded.key:
        _loaded.model = _load(key)
        _loaded.key = key
    _loaded.checked_at = now
    return _loaded.model


def _load(key: tuple[int, datetime] | None) -> spam.SpamModel | None:
    if key is None:
        return None
    parameters = SpamModelVersion.objects.values_list("parameters", flat=True).get(pk=key[0])
    try:
        return spam.SpamModel.from_bytes(bytes(parameters))
    except spam.SpamModelError:
        logger.exception("spam filter version %s cannot be loaded: rules only", key[0])
        return None


def spam_scores(comments: Sequence[Comment]) -> list[float] | None:
    """Return the current classifier's score of each comment (None: no model).

    For batched moderation: one model lookup and one sparse product for the whole batch,
    the same scores as one at a time (the cost is in building the features either way).
    """
    model = spam_model_current()
    if model is None:
        return None
    return model.score_many([comment_sample(comment) for comment in comments])


def spam_model_forget() -> None:
    """Drop this process's loaded model (tests; the loader notices new versions itself)."""
    _loaded.key, _loaded.model, _loaded.checked_at = None, None, -math.inf


# --- training data ----------------------------------------------------------------------


def moderator_decided_comments() -> list[Comment]:
    """Return the comments a moderator said are spam or not, with that label as status."""
    taught = ModerationEvent.objects.filter(
        comment=OuterRef("pk"), actor__isnull=False, action__in=TEACHING_ACTIONS
    )
    decided = Comment.objects.filter(Exists(taught), status__in=[Status.APPROVED, Status.SPAM])
    return list(decided.order_by("pk"))


def decided_samples(comments: Sequence[Comment]) -> list[spam.SpamSample]:
    return [comment_sample(c, label=c.status == Status.SPAM) for c in comments]


def rows_pack(rows: Sequence[tuple[str, spam.SpamSample]]) -> bytes:
    """Serialise (source, sample) rows from files as gzip JSON, to keep with a version."""
    data = [
        {"s": source, "b": s.body, "a": s.author_name, "l": int(bool(s.label))}
        for source, s in rows
    ]
    return gzip.compress(json.dumps(data, ensure_ascii=False).encode())


def rows_unpack(data: bytes) -> list[tuple[str, spam.SpamSample]]:
    if not data:
        return []
    try:
        raw = json.loads(gzip.decompress(data))
    except (OSError, EOFError, zlib.error, ValueError) as error:
        logger.error("stored training rows are unreadable (%s): ignoring them", error)
        return []
    return [
        (str(r["s"]), spam.SpamSample(body=str(r["b"]), author_name=str(r["a"]), label=r["l"] == 1))
        for r in raw
    ]


def current_rows() -> list[tuple[str, spam.SpamSample]]:
    """Return the file rows the current version was trained on."""
    data = SpamModelVersion.objects.filter(is_current=True).values_list("training_rows", flat=True)
    first = data.first()
    return rows_unpack(bytes(first)) if first else []


def _counts(samples: Iterable[spam.SpamSample]) -> dict[str, int]:
    labels = Counter(bool(s.label) for s in samples)
    return {"n": labels[True] + labels[False], "spam": labels[True], "ham": labels[False]}


def trained_on(
    rows: Sequence[tuple[str, spam.SpamSample]], decided: Sequence[spam.SpamSample]
) -> dict[str, Any]:
    """Describe a training set: counts per file and for the moderators' decisions."""
    sources = sorted({source for source, _ in rows})
    files = {name: _counts(s for source, s in rows if source == name) for name in sources}
    everything = [s for _, s in rows] + list(decided)
    return {"files": files, "moderators": _counts(decided), **_counts(everything)}


# --- training and evaluation ------------------------------------------------------------


def thresholds() -> dict[str, float]:
    return {
        "spam_threshold": settings.REEX_SPAM_THRESHOLD,
        "hold_threshold": settings.REEX_HOLD_THRESHOLD,
    }


def cross_validate(
    samples: Sequence[spam.SpamSample], *, folds: int = 5, progress: Progress = _no_progress
) -> dict[str, float | int]:
    """Return the classifier's own counts and rates over stratified k-fold predictions."""
    labels = np.array([bool(s.label) for s in samples], dtype=int)
    folds = min(folds, int(np.bincount(labels, minlength=2).min()))
    if folds < 2:
        return {}
    scores = np.zeros(len(samples))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train_idx, test_idx in progress(splitter.split(scores, labels), "cross-validating"):
        model = spam.train([samples[i] for i in train_idx])
        scores[test_idx] = model.score_many([samples[i] for i in test_idx])
    result = spam.evaluate_scores(scores.tolist(), labels.astype(bool).tolist(), **thresholds())
    return {**result, "folds": folds}


def error_cost(result: dict[str, float | int]) -> float:
    return sum(weight * float(result[key]) for key, weight in ERROR_COSTS.items())


@transaction.atomic
def spam_model_save(
    *,
    model: spam.SpamModel,
    trained_on: dict[str, Any],
    evaluation: dict[str, Any],
    rows: Sequence[tuple[str, spam.SpamSample]],
    created_by: str,
    replacing: int | None = None,
) -> SpamModelVersion | None:
    """Store a new version and make it current.

    With ``replacing`` (the id of the version a retraining compared against), switch only
    if that version is still current: return None when another version won meanwhile.
    """
    current = SpamModelVersion.objects.select_for_update().filter(is_current=True).first()
    if replacing is not None and (current is None or current.pk != replacing):
        return None
    SpamModelVersion.objects.filter(is_current=True).update(is_current=False)
    last = SpamModelVersion.objects.aggregate(last=Max("version"))["last"] or 0
    return SpamModelVersion.objects.create(
        version=last + 1,
        created_by=created_by,
        trained_on=trained_on,
        evaluation={**evaluation, "thresholds": thresholds()},
        parameters=model.to_bytes(),
        training_rows=rows_pack(rows),
        is_current=True,
    )


def spam_model_train(
    *,
    rows: Sequence[tuple[str, spam.SpamSample]],
    created_by: str,
    progress: Progress = _no_progress,
) -> SpamModelVersion:
    """Train on file rows plus every moderator decision, evaluate, and switch to it."""
    decided = decided_samples(moderator_decided_comments())
    samples = [s for _, s in rows] + decided
    evaluation = {"cross_validation": cross_validate(samples, progress=progress)}
    model = spam.train(samples)
    version = spam_model_save(
        model=model,
        trained_on=trained_on(rows, decided),
        evaluation=evaluation,
        rows=rows,
        created_by=created_by,
    )
    assert version is not None
    return version


# --- retraining -------------------------------------------------------------------------


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
    training = [s for _, s in rows] + decided_samples(kept)
    if len({s.label for s in training}) < 2:
        return RetrainOutcome(False, "Training needs both spam and not-spam examples.")
    gate = _gate(current, previous, spam.train(training), decided_samples(held))
    if gate is not None and not gate["switch"]:
        return RetrainOutcome(False, "The new model is worse on the held-back decisions.")
    return _retrain_switch(current, rows, decided, gate)


def _loadable(version: SpamModelVersion | None) -> spam.SpamModel | None:
    if version is None:
        return None
    try:
        return spam.SpamModel.from_bytes(bytes(version.parameters))
    except spam.SpamModelError as error:
        logger.warning("spam filter version %s is replaced unread: %s", version.version, error)
        return None


def _gate(
    current: SpamModelVersion | None,
    previous: spam.SpamModel | None,
    candidate: spam.SpamModel,
    held: Sequence[spam.SpamSample],
) -> dict[str, Any] | None:
    """Compare candidate and current on the held-back samples (None: nothing to compare)."""
    if current is None or previous is None:
        return None
    new = spam.evaluate(candidate, held, **thresholds())
    old = spam.evaluate(previous, held, **thresholds())
    return {
        "switch": bool(held) and error_cost(new) <= error_cost(old),
        "candidate": new,
        "previous": old,
        "previous_version": current.version,
    }


def _retrain_switch(
    current: SpamModelVersion | None,
    rows: Sequence[tuple[str, spam.SpamSample]],
    decided: Sequence[Comment],
    gate: dict[str, Any] | None,
) -> RetrainOutcome:
    samples = [s for _, s in rows] + decided_samples(decided)
    evaluation: dict[str, Any] = {"cross_validation": cross_validate(samples)}
    if gate is not None:
        evaluation["held_back"] = {k: v for k, v in gate.items() if k != "switch"}
    version = spam_model_save(
        model=spam.train(samples),
        trained_on=trained_on(rows, decided_samples(decided)),
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
