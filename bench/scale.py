"""``python -m bench --scale [--fresh]``: every figure at a thousand rows, then at a million.

Two stacks in turn: the first on a fresh database with about a thousand comments, the
second on a kept database (``reex_benchscale``) filled up to a million comments on 20,000
articles and 200,000 subscribers by ``seed_bench`` (only what is missing is added, so a
second run starts measuring at once; ``--fresh`` drops it first). Each runs the same web
rounds and worker figures, and times the moderators' lists; the comparison divides one by
the other.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from bench import cli, lists
from bench.stack import drop_kept_database, running_bench_stack
from devstack.stack import Stack

logger = logging.getLogger("bench")
DATABASE = "reex_benchscale"
SMALL = {"comments": 1_000, "articles": 20, "subscribers": 200}
LARGE = {"comments": 1_000_000, "articles": 20_000, "subscribers": 200_000}
TARGET_SLOWDOWN = 1.2
TARGET_LIST_MS = 100.0
COUNT_SQL = {
    "comments": "SELECT count(*) FROM comments_comment",
    "articles": "SELECT count(*) FROM comments_article",
    "subscribers": "SELECT count(*) FROM subscriptions_subscriber",
}
# Worker figures: which way is better, to turn small/large into a slowdown.
WORKER_FIGURES = (
    ("moderation", "per_second", "moderation throughput (/s)", True),
    ("latency", "p95_ms", "submit-to-decision p95 (ms)", False),
    ("emails", "per_second", "confirmation emails (/s)", True),
)


def missing_rows(*, have: dict[str, int], want: dict[str, int]) -> dict[str, int]:
    """Return how many rows of each kind to add so that ``have`` reaches ``want``."""
    return {kind: max(0, want[kind] - have.get(kind, 0)) for kind in want}


def slowdown(small: float, large: float, *, higher_is_better: bool) -> float | None:
    """Return how many times worse ``large`` is than ``small`` (1.0 = flat, < 1 = better)."""
    worse, better = (small, large) if higher_is_better else (large, small)
    if not better or not worse or worse != worse or better != better:  # zero or NaN
        return None
    return worse / better


def compare(small: dict[str, Any], large: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Return per operation the small and large figures and the slowdown of each."""
    web = []
    small_web = {row["key"]: row for row in small["web"] if row["status"] == "ok"}
    for row in large["web"]:
        before = small_web.get(row["key"])
        if row["status"] != "ok" or before is None or row["key"] == "bare":
            continue
        cpu = slowdown(before["cpu_us"], row["cpu_us"], higher_is_better=False)
        ratio = slowdown(before["ratio"], row["ratio"], higher_is_better=True)
        web.append(
            {
                "operation": row["operation"],
                "cpu_small": before["cpu_us"],
                "cpu_large": row["cpu_us"],
                "cpu_slowdown": cpu,
                "ratio_small": before["ratio"],
                "ratio_large": row["ratio"],
                "ratio_slowdown": ratio,
                "ok": _within(cpu) and _within(ratio),
            }
        )
    workers = []
    for key, figure, label, higher in WORKER_FIGURES:
        before, after = small["workers"].get(key, {}), large["workers"].get(key, {})
        if before.get("status") != "ok" or after.get("status") != "ok":
            continue
        change = slowdown(before[figure], after[figure], higher_is_better=higher)
        workers.append(
            {
                "figure": label,
                "small": before[figure],
                "large": after[figure],
                "slowdown": change,
                "ok": _within(change),
            }
        )
    return {"web": web, "workers": workers, "lists": _lists(small["lists"], large["lists"])}


def _within(change: float | None) -> bool:
    return change is not None and change <= TARGET_SLOWDOWN


def _lists(small: list[dict[str, Any]], large: list[dict[str, Any]]) -> list[dict[str, Any]]:
    before = {row["key"]: row for row in small}
    return [
        {
            "label": row["label"],
            "small_ms": before[row["key"]]["median_ms"] if row["key"] in before else None,
            "median_ms": row["median_ms"],
            "p95_ms": row["p95_ms"],
            "cpu_ms": row.get("cpu_ms"),
            "queries": row["queries"],
            "unfiltered_counts": len(row["unfiltered_counts"]),
            "ok": row["median_ms"] <= TARGET_LIST_MS
            and not row["unfiltered_counts"]
            and row["statuses"] == [200],
        }
        for row in large
    ]


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure at a thousand rows, then at a million; return both and their comparison."""
    clock = time.monotonic()
    if args.fresh:
        drop_kept_database(DATABASE)
    small = _phase(args, database=None, want=SMALL, work_dir=cli.OUT_DIR / "scale-small")
    logger.info("small phase done at %.0f s", time.monotonic() - clock)
    large = _phase(args, database=DATABASE, want=LARGE, work_dir=cli.OUT_DIR / "scale-large")
    logger.info("large phase done at %.0f s", time.monotonic() - clock)
    return {"small": small, "large": large, "comparison": compare(small, large)}


def _phase(
    args: argparse.Namespace, *, database: str | None, want: dict[str, int], work_dir: Path
) -> dict[str, Any]:
    shutil.rmtree(work_dir, ignore_errors=True)
    with running_bench_stack(work_dir=work_dir, database=database) as stack:
        seeded = _seed_up_to(stack, want)
        web = cli.measure_web(stack, args)
        figures = cli.measure_workers(stack, args, web)
        measured = lists.measure(stack, out=work_dir / "lists-sql.json")
        stack.check_running()
        rows = _rows(stack)
    return {"rows": rows, "seeded": seeded, "web": web, "workers": figures, "lists": measured}


def _rows(stack: Stack) -> dict[str, int]:
    return {kind: int(stack.sql(query)[0][0]) for kind, query in COUNT_SQL.items()}


def _seed_up_to(stack: Stack, want: dict[str, int]) -> dict[str, Any]:
    """Add the rows missing to reach ``want`` with seed_bench; refresh the statistics."""
    add = missing_rows(have=_rows(stack), want=want)
    started = time.monotonic()
    if any(add.values()):
        logger.info("seeding %s (a million comments take a few minutes)", add)
        stack.manage(
            "seed_bench",
            f"--comments={add['comments']}",
            f"--articles={add['articles']}",
            f"--subscribers={add['subscribers']}",
            "--no-progress",
            timeout=3600,
        )
    # What autovacuum would have done on a database that grew over time: statistics for
    # the planner, the visibility map for index-only counts.
    stack.sql("VACUUM ANALYZE")
    return {"added": add, "seconds": time.monotonic() - started}
