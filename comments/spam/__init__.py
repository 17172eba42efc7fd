"""The spam filter: the classifier (features, model, training, evaluation), its stored
versions (versions, retraining) and the hosted check (akismet).

The package namespace is the classifier's API, for the commands and the benchmark; the
classifier's modules are the only ones that import scikit-learn.
"""

from comments.spam.evaluation import (
    DEFAULT_HOLD_THRESHOLD,
    DEFAULT_SPAM_THRESHOLD,
    EVALUATION_COUNTS,
    evaluate,
    evaluate_scores,
    evaluate_verdicts,
    load_csv,
    thresholds_choose,
    verdict,
)
from comments.spam.features import FEATURE_SPEC, SpamSample, sample_features
from comments.spam.model import FORMAT_MAGIC, SpamModel, SpamModelError
from comments.spam.training import DEFAULT_C, cross_validate, leave_one_out, train

__all__ = [
    "DEFAULT_C",
    "DEFAULT_HOLD_THRESHOLD",
    "DEFAULT_SPAM_THRESHOLD",
    "EVALUATION_COUNTS",
    "FEATURE_SPEC",
    "FORMAT_MAGIC",
    "SpamModel",
    "SpamModelError",
    "SpamSample",
    "cross_validate",
    "evaluate",
    "evaluate_scores",
    "evaluate_verdicts",
    "leave_one_out",
    "load_csv",
    "sample_features",
    "thresholds_choose",
    "train",
    "verdict",
]
