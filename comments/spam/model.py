"""A trained spam classifier and its safe persistence (numpy arrays, pickling disabled)."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from comments.spam.features import FEATURE_SPEC, N_FEATURES, SpamSample, hashed, matrix

FORMAT_MAGIC = b"REEX-SPAM-MODEL/1\n"


class SpamModelError(ValueError):
    """Stored model bytes that are not a valid model for these features."""


@dataclass
class SpamModel:
    """A trained classifier: sparse hashed coefficients and a Platt calibration."""

    indices: np.ndarray  # int64 feature indices with a non-zero coefficient
    values: np.ndarray  # float64 coefficients at those indices
    intercept: float
    calibration: tuple[float, float]  # score = sigmoid(a * decision + b)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._coef = np.zeros(N_FEATURES)
        self._coef[self.indices] = self.values

    def decision_many(self, samples: Sequence[SpamSample]) -> np.ndarray:
        if not samples:
            return np.zeros(0)
        return np.asarray(matrix(samples) @ self._coef) + self.intercept

    def score_many(self, samples: Sequence[SpamSample]) -> list[float]:
        """Return the probability that each sample is spam, in [0, 1]."""
        a, b = self.calibration
        return [float(s) for s in _sigmoid(a * self.decision_many(samples) + b)]

    def score(self, sample: SpamSample) -> float:
        """Return the probability that one sample is spam, in [0, 1]."""
        a, b = self.calibration
        indices, values = hashed(sample)
        decision = self.intercept + float(self._coef[indices] @ np.array(values))
        return 1.0 / (1.0 + math.exp(-max(min(a * decision + b, 500.0), -500.0)))

    def to_bytes(self) -> bytes:
        """Serialise parameters only: a numpy archive, no pickled objects."""
        buffer = io.BytesIO()
        meta = {**self.meta, "feature_spec": FEATURE_SPEC, "n_features": N_FEATURES}
        np.savez_compressed(
            buffer,
            indices=self.indices.astype(np.int64),
            values=self.values.astype(np.float64),
            scalars=np.array([self.intercept, *self.calibration], dtype=np.float64),
            meta=np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8),
        )
        return FORMAT_MAGIC + buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SpamModel:
        """Load a model saved by to_bytes; refuse anything else without executing it."""
        if not data.startswith(FORMAT_MAGIC):
            raise SpamModelError("not a reex spam model (bad header)")
        arrays = _load_arrays(data[len(FORMAT_MAGIC) :])
        meta = _load_meta(arrays["meta"])
        indices, values, scalars = arrays["indices"], arrays["values"], arrays["scalars"]
        if (
            indices.dtype != np.int64
            or values.dtype != np.float64
            or scalars.dtype != np.float64
            or indices.ndim != 1
            or indices.shape != values.shape
            or scalars.shape != (3,)
            or (indices.size and (indices.min() < 0 or indices.max() >= N_FEATURES))
            or not np.isfinite(values).all()
            or not np.isfinite(scalars).all()
        ):
            raise SpamModelError("model arrays have the wrong type, shape or range")
        intercept, a, b = (float(x) for x in scalars)
        return cls(
            indices=indices, values=values, intercept=intercept, calibration=(a, b), meta=meta
        )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -500, 500)))


def _load_arrays(payload: bytes) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            if sorted(archive.files) != ["indices", "meta", "scalars", "values"]:
                raise SpamModelError("model archive has unexpected members")
            return {name: archive[name] for name in archive.files}
    except SpamModelError:
        raise
    except Exception as exc:  # a corrupt or crafted archive, or pickled object arrays
        raise SpamModelError(f"unreadable model archive: {exc}") from exc


def _load_meta(raw: np.ndarray) -> dict[str, Any]:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise SpamModelError("model metadata has the wrong type")
    try:
        meta = json.loads(raw.tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpamModelError("model metadata is not JSON") from exc
    if not isinstance(meta, dict):
        raise SpamModelError("model metadata is not an object")
    if meta.get("feature_spec") != FEATURE_SPEC or meta.get("n_features") != N_FEATURES:
        raise SpamModelError(f"model was built for features {meta.get('feature_spec')!r}")
    return meta
