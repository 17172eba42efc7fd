"""The spam filter's stored versions: the worker's loader, training data, training.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef

from comments.models import Comment, Flag, ModerationEvent, SpamModelVersion
from comments.spam.features import SpamSample
from comments.spam.model import SpamModel, SpamModelError
from comments.spam.training import Progress, cross_validate, no_progress, train

logger = logging.getLogger(__name__)
Status = Comment.Status
# The moderator actions that say what a comment is (trash and restore say nothing).
TEACHING_ACTIONS = ("approve", "ham", "spam")
# Readers' spam reports are a weak label: only from this many different sources, never
# one alone, and weighing this much per source up to the cap (a moderator's weighs 1).
REPORT_SOURCES_TO_TEACH = 2
REPORT_WEIGHT_PER_SOURCE = 0.25
REPORT_WEIGHT_MAX = 0.75


def comment_sample(comment: Comment, *, label: bool | None = None) -> SpamSample:
    """Return what the classifier sees of a comment (the raw text, never the HTML)."""
    return SpamSample(
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
    model: SpamModel | None = None
    checked_at: float = -math.inf


_loaded = _Loaded()


def spam_model_current() -> SpamModel | None:
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


def _load(key: tuple[int, datetime] | None) -> SpamModel | None:
    if key is None:
        return None
    parameters = SpamModelVersion.objects.values_list("parameters", flat=True).get(pk=key[0])
    try:
        return SpamModel.from_bytes(bytes(parameters))
    except SpamModelError:
        logger.exception("spam filter version %s cannot be loaded: rules only", key[0])
        return None


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


def decided_samples(comments: Sequence[Comment]) -> list[SpamSample]:
    return [comment_sample(c, label=c.status == Status.SPAM) for c in comments]


def reported_samples(*, decided: Sequence[Comment]) -> list[SpamSample]:
    """Return weak spam samples: comments readers reported as spam from at least
    REPORT_SOURCES_TO_TEACH different networks that no moderator has decided (a decision,
    ``decided``, is the stronger label and replaces the reports)."""
    open_spam = Flag.objects.filter(reason=Flag.Reason.SPAM, cleared_at=None)
    open_spam = open_spam.exclude(comment_id__in=[c.pk for c in decided])
    counted = open_spam.values("comment_id").annotate(n=Count("source", distinct=True))
    sources = {
        row["comment_id"]: row["n"] for row in counted if row["n"] >= REPORT_SOURCES_TO_TEACH
    }
    comments = Comment.objects.filter(pk__in=sources, status__in=[Status.APPROVED, Status.PENDING])
    return [
        replace(comment_sample(c, label=True), weight=_report_weight(sources[c.pk]))
        for c in comments.order_by("pk")
    ]


def _report_weight(sources: int) -> float:
    return min(REPORT_WEIGHT_MAX, REPORT_WEIGHT_PER_SOURCE * sources)


def rows_pack(rows: Sequence[tuple[str, SpamSample]]) -> bytes:
    """Serialise (source, sample) rows from files as gzip JSON, to keep with a version."""
    data = [
        {"s": source, "b": s.body, "a": s.author_name, "l": int(bool(s.label))}
        for source, s in rows
    ]
    return gzip.compress(json.dumps(data, ensure_ascii=False).encode())


def rows_unpack(data: bytes) -> list[tuple[str, SpamSample]]:
    if not data:
        return []
    try:
        raw = json.loads(gzip.decompress(data))
    except (OSError, EOFError, zlib.error, ValueError) as error:
        logger.error("stored training rows are unreadable (%s): ignoring them", error)
        return []
    return [
        (str(r["s"]), SpamSample(body=str(r["b"]), author_name=str(r["a"]), label=r["l"] == 1))
        for r in raw
    ]


def current_rows() -> list[tuple[str, SpamSample]]:
    """Return the file rows the current version was trained on."""
    data = SpamModelVersion.objects.filter(is_current=True).values_list("training_rows", flat=True)
    first = data.first()
    return rows_unpack(bytes(first)) if first else []


def _counts(samples: Iterable[SpamSample]) -> dict[str, int]:
    labels = Counter(bool(s.label) for s in samples)
    return {"n": labels[True] + labels[False], "spam": labels[True], "ham": labels[False]}


def trained_on(
    rows: Sequence[tuple[str, SpamSample]],
    decided: Sequence[SpamSample],
    reported: Sequence[SpamSample] = (),
) -> dict[str, Any]:
    """Describe a training set: counts per file, for moderators' decisions and reports."""
    sources = sorted({source for source, _ in rows})
    files = {name: _counts(s for source, s in rows if source == name) for name in sources}
    everything = [s for _, s in rows] + list(decided) + list(reported)
    counts = {"files": files, "moderators": _counts(decided), **_counts(everything)}
    return {**counts, "reports": _counts(reported)} if reported else counts


# --- training ---------------------------------------------------------------------------


def thresholds() -> dict[str, float]:
    return {
        "spam_threshold": settings.REEX_SPAM_THRESHOLD,
        "hold_threshold": settings.REEX_HOLD_THRESHOLD,
    }


def cross_validated(
    samples: Sequence[SpamSample], *, progress: Progress = no_progress
) -> dict[str, float | int]:
    """Return cross_validate's counts and rates at the site's thresholds."""
    return cross_validate(
        samples,
        spam_threshold=settings.REEX_SPAM_THRESHOLD,
        hold_threshold=settings.REEX_HOLD_THRESHOLD,
        progress=progress,
    )


@transaction.atomic
def spam_model_save(
    *,
    model: SpamModel,
    trained_on: dict[str, Any],
    evaluation: dict[str, Any],
    rows: Sequence[tuple[str, SpamSample]],
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
    rows: Sequence[tuple[str, SpamSample]],
    created_by: str,
    progress: Progress = no_progress,
) -> SpamModelVersion:
    """Train on file rows plus every moderator decision and the readers' spam reports
    (weak labels), evaluate, and switch to it."""
    comments = moderator_decided_comments()
    decided = decided_samples(comments)
    reported = reported_samples(decided=comments)
    samples = [s for _, s in rows] + decided + reported
    evaluation = {"cross_validation": cross_validated(samples, progress=progress)}
    model = train(samples)
    version = spam_model_save(
        model=model,
        trained_on=trained_on(rows, decided, reported),
        evaluation=evaluation,
        rows=rows,
        created_by=created_by,
    )
    assert version is not None
    return version
