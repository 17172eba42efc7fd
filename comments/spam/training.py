"""Training the spam classifier: a calibrated logistic regression on hashed features."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from comments.spam.evaluation import evaluate_scores
from comments.spam.features import SpamSample, matrix
from comments.spam.model import SpamModel

# Inverse regularisation strength of the logistic regression.
DEFAULT_C = 16.0
Progress = Callable[[Iterable[Any], str], Iterable[Any]]


def no_progress(items: Iterable[Any], _label: str) -> Iterable[Any]:
    return items


def _labels(samples: Sequence[SpamSample]) -> np.ndarray:
    if any(sample.label is None for sample in samples):
        raise ValueError("every training sample needs a label")
    labels = np.array([bool(sample.label) for sample in samples], dtype=int)
    if labels.min() == labels.max():
        raise ValueError("training needs both spam and ham samples")
    return labels


@dataclass(frozen=True)
class _Weights:
    indices: np.ndarray  # the hashed columns seen in training
    values: np.ndarray
    intercept: float

    def decision(self, x: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(x[:, self.indices] @ self.values) + self.intercept


def _fit(
    x: sparse.csr_matrix, y: np.ndarray, *, c: float, seed: int, w: np.ndarray | None = None
) -> _Weights:
    # Fit on the columns that occur only, in the dual: far more features than samples.
    columns = np.unique(x.indices).astype(np.int64)
    classifier = LogisticRegression(
        C=c,
        class_weight="balanced",
        solver="liblinear",
        dual=True,
        max_iter=2000,
        random_state=seed,
    ).fit(x[:, columns], y, sample_weight=w)
    coef = classifier.coef_[0]
    keep = np.flatnonzero(coef)
    return _Weights(columns[keep], coef[keep].astype(np.float64), float(classifier.intercept_[0]))


def _platt(
    x: sparse.csr_matrix, y: np.ndarray, *, c: float, seed: int, w: np.ndarray
) -> tuple[float, float]:
    """Fit sigmoid(a * decision + b) on out-of-fold decisions, so scores mean probabilities."""
    folds = min(5, int(np.bincount(y).min()))
    if folds < 2:
        return 1.0, 0.0
    decisions = np.zeros(len(y))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(np.zeros(len(y)), y):
        weights = _fit(x[train_idx], y[train_idx], c=c, seed=seed, w=w[train_idx])
        decisions[test_idx] = weights.decision(x[test_idx])
    calibrator = LogisticRegression(C=1e4).fit(decisions.reshape(-1, 1), y, sample_weight=w)
    return float(calibrator.coef_[0, 0]), float(calibrator.intercept_[0])


def train(samples: Sequence[SpamSample], *, seed: int = 0, c: float = DEFAULT_C) -> SpamModel:
    """Train a calibrated logistic regression on labelled samples."""
    y = _labels(samples)
    x = matrix(samples)
    w = np.array([sample.weight for sample in samples], dtype=np.float64)
    weights = _fit(x, y, c=c, seed=seed, w=w)
    meta = {"n": len(y), "n_spam": int(y.sum()), "n_ham": int(len(y) - y.sum()), "c": c}
    return SpamModel(
        indices=weights.indices,
        values=weights.values,
        intercept=weights.intercept,
        calibration=_platt(x, y, c=c, seed=seed, w=w),
        meta=meta,
    )


def cross_validate(
    samples: Sequence[SpamSample],
    *,
    spam_threshold: float,
    hold_threshold: float,
    folds: int = 5,
    progress: Progress = no_progress,
) -> dict[str, float | int]:
    """Return the classifier's own counts and rates over stratified k-fold predictions."""
    labels = np.array([bool(s.label) for s in samples], dtype=int)
    folds = min(folds, int(np.bincount(labels, minlength=2).min()))
    if folds < 2:
        return {}
    scores = np.zeros(len(samples))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train_idx, test_idx in progress(splitter.split(scores, labels), "cross-validating"):
        model = train([samples[i] for i in train_idx])
        scores[test_idx] = model.score_many([samples[i] for i in test_idx])
    result = evaluate_scores(
        scores.tolist(),
        labels.astype(bool).tolist(),
        spam_threshold=spam_threshold,
        hold_threshold=hold_threshold,
    )
    return {**result, "folds": folds}


def leave_one_out(
    groups: Mapping[str, Sequence[SpamSample]], *, seed: int = 0, c: float = DEFAULT_C
) -> dict[str, tuple[list[float], list[bool]]]:
    """Train on all groups but one and score the one left out; return scores and labels."""
    result = {}
    for held_out, samples in groups.items():
        training = [s for name, group in groups.items() if name != held_out for s in group]
        model = train(training, seed=seed, c=c)
        labels = [bool(sample.label) for sample in samples]
        result[held_out] = (model.score_many(samples), labels)
    return result
