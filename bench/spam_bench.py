"""Benchmark the spam classifier: leave-one-file-out figures, an SMS sanity check, speed.

Run from the repository root:  .venv/bin/python -m bench.spam_bench [--data DIR]
[--unseen FILE ...] (the final measurement on videos kept out of the shared data).
It prints numbers; it asserts nothing (tests/comments/test_spam_classifier.py does).
"""

from __future__ import annotations

import os

# One core: keep numpy/scipy from spreading the scoring over a thread pool.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from comments import spam  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "spam"
KEYS = (
    "spam_marked_spam",
    "spam_held",
    "spam_approved",
    "ham_marked_spam",
    "ham_held",
    "ham_approved",
)


def load_sms(path: Path) -> list[spam.SpamSample]:
    """Read the SMS Spam Collection: one `label<TAB>text` per line, no header."""
    samples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition("\t")
        if label in ("spam", "ham"):
            samples.append(spam.SpamSample(body=text, label=label == "spam"))
    return samples


def rates(result: dict[str, float | int]) -> str:
    n_spam = result["spam_marked_spam"] + result["spam_held"] + result["spam_approved"]
    n_ham = result["n"] - n_spam
    return (
        f"n={result['n']:5} | ham marked spam {result['ham_marked_spam'] / n_ham:6.1%}"
        f" (≤1%) | spam approved {result['spam_approved'] / n_spam:6.1%} (≤3%)"
        f" | spam marked spam {result['spam_marked_spam'] / n_spam:6.1%} (≥85%)"
        f" | ham held {result['ham_held'] / n_ham:6.1%} (≤10%)"
        f" | P {result['precision']:.3f} R {result['recall']:.3f} F1 {result['f1']:.3f}"
        f"\n        counts: " + " ".join(f"{key}={result[key]}" for key in KEYS)
    )


def verdicts(scores: Sequence[float], labels: Sequence[bool], spam_t: float, hold_t: float):
    return spam.evaluate_scores(scores, labels, spam_threshold=spam_t, hold_threshold=hold_t)


def bench_lofo(youtube: dict[str, list[spam.SpamSample]], spam_t: float, hold_t: float):
    print(f"\n== leave-one-file-out, thresholds spam ≥ {spam_t}, held ≥ {hold_t} ==")
    folds = spam.leave_one_out(youtube)
    for name, (scores, labels) in folds.items():
        print(f"{name:28} {rates(verdicts(scores, labels, spam_t, hold_t))}")
    pooled_scores = [s for scores, _ in folds.values() for s in scores]
    pooled_labels = [label for _, labels in folds.values() for label in labels]
    print(f"{'pooled':28} {rates(verdicts(pooled_scores, pooled_labels, spam_t, hold_t))}")
    return folds


def _pooled(folds) -> tuple[list[float], list[bool]]:
    return (
        [s for scores, _ in folds.values() for s in scores],
        [label for _, labels in folds.values() for label in labels],
    )


def bench_nested(youtube: dict[str, list[spam.SpamSample]], folds) -> None:
    """Choose thresholds on the training files only (their own leave-one-file-out), then
    apply them to the held-out file: what a new video would see."""
    print("\n== nested leave-one-file-out: thresholds chosen without the held-out file ==")
    verdict_list: list[str] = []
    label_list: list[bool] = []
    for held_out, (scores, labels) in folds.items():
        inner = spam.leave_one_out({k: v for k, v in youtube.items() if k != held_out})
        spam_t, hold_t = spam.thresholds_choose(*_pooled(inner))
        print(f"{held_out:28} spam ≥ {spam_t:.2f} held ≥ {hold_t:.2f}")
        print(f"{'':28} {rates(verdicts(scores, labels, spam_t, hold_t))}")
        verdict_list += [
            spam.verdict(s, spam_threshold=spam_t, hold_threshold=hold_t) for s in scores
        ]
        label_list += labels
    print(f"{'pooled':28} {rates(spam.evaluate_verdicts(verdict_list, label_list))}")
    spam_t, hold_t = spam.thresholds_choose(*_pooled(folds))
    print(f"the same rule on all three folds (the defaults): spam ≥ {spam_t}, held ≥ {hold_t}")


def bench_sweep(folds, spam_ts: Sequence[float], hold_ts: Sequence[float]) -> None:
    print(
        "\n== threshold sweep (worst fold | pooled): ham marked spam, spam approved, "
        "spam marked spam, ham held =="
    )
    pooled = _pooled(folds)
    for spam_t in spam_ts:
        for hold_t in hold_ts:
            per = [verdicts(sc, lb, spam_t, hold_t) for sc, lb in [*folds.values(), pooled]]
            cells = [_fractions(result) for result in per]
            worst = [
                max(c[0] for c in cells[:-1]),
                max(c[1] for c in cells[:-1]),
                min(c[2] for c in cells[:-1]),
                max(c[3] for c in cells[:-1]),
            ]
            print(
                f"spam ≥ {spam_t:.2f} held ≥ {hold_t:.2f}: worst "
                + " ".join(f"{x:6.1%}" for x in worst)
                + " | pooled "
                + " ".join(f"{x:6.1%}" for x in cells[-1])
            )


def _fractions(result: dict[str, float | int]) -> tuple[float, float, float, float]:
    n_spam = result["spam_marked_spam"] + result["spam_held"] + result["spam_approved"]
    n_ham = result["n"] - n_spam
    return (
        result["ham_marked_spam"] / n_ham,
        result["spam_approved"] / n_spam,
        result["spam_marked_spam"] / n_spam,
        result["ham_held"] / n_ham,
    )


def bench_sms(model: spam.SpamModel, sms: list[spam.SpamSample], spam_t: float, hold_t: float):
    print("\n== SMS Spam Collection (out of domain) ==")
    result = spam.evaluate(model, sms, spam_threshold=spam_t, hold_threshold=hold_t)
    print(f"{'YouTube model on SMS':28} {rates(result)}")
    labels = np.array([bool(s.label) for s in sms])
    scores = np.zeros(len(sms))
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for train_idx, test_idx in splitter.split(np.zeros(len(sms)), labels):
        fold_model = spam.train([sms[i] for i in train_idx])
        scores[test_idx] = fold_model.score_many([sms[i] for i in test_idx])
    print(
        f"{'SMS 5-fold CV':28} {rates(verdicts(scores.tolist(), labels.tolist(), spam_t, hold_t))}"
    )


def bench_speed(model: spam.SpamModel, samples: list[spam.SpamSample], rounds: int) -> None:
    print(f"\n== scoring speed, one core, {len(samples) * rounds} comments ==")
    n = len(samples) * rounds
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        for sample in samples:
            model.score(sample)
    single = (n / (time.perf_counter() - wall), n / (time.process_time() - cpu))
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        model.score_many(samples)
    batch = (n / (time.perf_counter() - wall), n / (time.process_time() - cpu))
    # Wall-clock rates drop when other processes share the core; CPU-time rates do not.
    print(
        f"score(sample)       {single[0]:8.0f} comments/s wall, {single[1]:8.0f} per CPU-second"
        " (target ≥ 1,000)"
    )
    print(f"score_many(samples) {batch[0]:8.0f} comments/s wall, {batch[1]:8.0f} per CPU-second")
    size = len(model.to_bytes())
    print(f"model: {len(model.indices)} non-zero weights, {size / 1024:.0f} KiB serialised")


def bench_unseen(model: spam.SpamModel, paths: Sequence[Path], spam_t: float, hold_t: float):
    """The final measurement: the model trained on the shared files judges files it never
    saw (keep them out of every choice of features, parameters and thresholds)."""
    print("\n== files never seen in training or in any choice ==")
    samples = [sample for path in paths for sample in spam.load_csv(path)]
    result = spam.evaluate(model, samples, spam_threshold=spam_t, hold_threshold=hold_t)
    print(f"{' + '.join(path.name for path in paths):28} {rates(result)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="…/shared/data/spam")
    parser.add_argument("--spam-threshold", type=float, default=spam.DEFAULT_SPAM_THRESHOLD)
    parser.add_argument("--hold-threshold", type=float, default=spam.DEFAULT_HOLD_THRESHOLD)
    parser.add_argument("--sweep", action="store_true", help="also print a threshold grid")
    parser.add_argument(
        "--nested", action="store_true", help="also choose thresholds by nested LOFO"
    )
    parser.add_argument("--rounds", type=int, default=3, help="speed: passes over the data")
    parser.add_argument(
        "--unseen", type=Path, nargs="+", default=[], help="labelled CSV files to judge last"
    )
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    files = sorted((args.data / "youtube").glob("*.csv"))
    if not files:
        raise SystemExit(f"no YouTube CSV files under {args.data / 'youtube'}")
    youtube = {path.name: spam.load_csv(path) for path in files}
    spam_t, hold_t = args.spam_threshold, args.hold_threshold
    folds = bench_lofo(youtube, spam_t, hold_t)
    if args.sweep:
        bench_sweep(folds, [0.95, 0.96, 0.97, 0.98, 0.99], [0.15, 0.2, 0.25, 0.3])
    if args.nested:
        bench_nested(youtube, folds)
    everything = [sample for samples in youtube.values() for sample in samples]
    model = spam.train(everything)
    sms_path = args.data / "sms" / "SMSSpamCollection"
    if sms_path.exists():
        bench_sms(model, load_sms(sms_path), spam_t, hold_t)
    if args.unseen:
        bench_unseen(model, args.unseen, spam_t, hold_t)
    bench_speed(model, everything, args.rounds)


if __name__ == "__main__":
    main()
