"""``python -m bench --soak [--minutes 10]``: half the measured capacity for minutes on end.

The stack runs with its workers consuming. A short unpaced run of the mixed script
(``lua/mixed.lua``: comment list reads, comment POSTs, sign-ups, unsubscribes) measures
the capacity; then rounds of ``ROUND_SECONDS`` hold half of it, each round's per-connection
delay corrected from the rate the round before reached (Debian's wrk has no rate option).
The resident memory of the gunicorn and Celery process trees is sampled after the first
minute and at the end; errors are every non-2xx answer and every socket error.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from dataclasses import replace
from typing import Any

from bench import cli
from bench.stack import running_bench_stack
from bench.stats import WrkResult, median
from bench.web import Load, Operation, run_wrk
from devstack.stack import Stack

logger = logging.getLogger("bench")
ROUND_SECONDS = 30
WARM_UP_SECONDS = 60
CAPACITY_SECONDS = 10
LOAD_SHARE = 0.5
UNSUBSCRIBE_TOKENS = 5000
DRAIN_SECONDS = 60
TARGET_GROWTH_PERCENT = 10.0

MIXED = Operation(
    key="mixed",
    label="mixed: 6 list GETs, 2 comment POSTs, 1 sign-up, 1 unsubscribe",
    script="mixed.lua",
    path=cli.COMMENTS_PATH,
    target="",
)


def vm_rss_kb(status_text: str) -> int:
    """Return the resident set size in kB from the text of ``/proc/<pid>/status``."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # a zombie has no VmRSS line


def growth_percent(before: int, after: int) -> float:
    if before <= 0:
        raise ValueError("no memory measured before")
    return (after - before) * 100 / before


def next_delay_ms(delay_ms: float, *, connections: int, target: float, measured: float) -> float:
    """Return the per-connection delay that turns ``measured`` req/s into ``target``.

    Each connection sends one request per (delay + latency), so the rate is
    connections / (delay + latency); the latency implied by the last round is kept.
    """
    if target <= 0 or measured <= 0:
        return delay_ms
    return max(0.0, delay_ms + connections * 1000 * (1 / target - 1 / measured))


def process_tree(root: int) -> list[int]:
    """Return ``root`` and every process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                text = stat.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return sorted(tree)


def tree_rss(root: int) -> dict[str, Any]:
    """Return the summed VmRSS (kB) of ``root``'s process tree, and its PIDs."""
    pids, total = process_tree(root), 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                total += vm_rss_kb(status.read())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return {"kb": total, "pids": pids}


def _memory(stack: Stack) -> dict[str, dict[str, Any]]:
    assert stack.web is not None
    return {"web": tree_rss(stack.web.pid), "worker": tree_rss(stack.processes["worker"].pid)}


def _counts(stack: Stack, *, after: int = 0) -> dict[str, int]:
    """Return the last comment id, how many comments past ``after`` are moderated, etc."""
    (comments, moderated, subscribers), *_ = stack.sql(
        "SELECT (SELECT coalesce(max(id), 0) FROM comments_comment),"
        " (SELECT count(*) FROM comments_comment WHERE id > %s AND checked_at IS NOT NULL),"
        " (SELECT count(*) FROM subscriptions_subscriber)",
        (after,),
    )
    return {
        "last_comment": int(comments),
        "moderated": int(moderated),
        "subscribers": int(subscribers),
        "emails": len(stack.smtp.envelopes),
    }


def _round(stack: Stack, operation: Operation, load: Load, delay_ms: float) -> WrkResult:
    paced = replace(operation, env={**operation.env, "BENCH_DELAY_MS": f"{delay_ms:.1f}"})
    return run_wrk(stack.base_url, paced, load)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Hold half the capacity for ``args.minutes``; return rates, errors, memory, work done."""
    work_dir = cli.OUT_DIR / "soak"
    with running_bench_stack(work_dir=work_dir) as stack:
        seeded = cli.seed(stack, tokens=UNSUBSCRIBE_TOKENS)
        if seeded.get("unsubscribe") != "ok":
            raise RuntimeError(f"cannot seed the soak: {seeded}")
        operation = replace(
            MIXED,
            env={
                "BENCH_SUBSCRIBE_PATH": cli.SUBSCRIBE_PATH,
                "BENCH_PATHS_FILE": str(cli.UNSUBSCRIBE_FILE),
            },
        )
        load = Load(duration=CAPACITY_SECONDS, connections=args.connections)
        _round(stack, operation, Load(duration=3, connections=args.connections), 0)
        capacity = _round(stack, operation, load, 0)
        target = capacity.rps * LOAD_SHARE
        logger.info("capacity %.0f req/s: holding %.0f req/s", capacity.rps, target)
        result = _paced(stack, operation, args, capacity=capacity.rps, target=target)
        stack.check_running()
    return {"capacity": _figures(capacity), "target_rps": target, **result}


def _paced(
    stack: Stack,
    operation: Operation,
    args: argparse.Namespace,
    *,
    capacity: float,
    target: float,
) -> dict[str, Any]:
    load = Load(duration=ROUND_SECONDS, connections=args.connections)
    delay = next_delay_ms(0, connections=args.connections, target=target, measured=capacity)
    before, rounds, warm = _counts(stack), [], None
    started = time.monotonic()
    while time.monotonic() - started < args.minutes * 60:
        result = _round(stack, operation, load, delay)
        rounds.append({**_figures(result), "delay_ms": delay})
        logger.info(
            "soak %.0f s: %.0f req/s (delay %.1f ms), %d errors",
            time.monotonic() - started, result.rps, delay, result.errors,
        )  # fmt: skip
        if warm is None and time.monotonic() - started >= WARM_UP_SECONDS:
            warm = _memory(stack)
        delay = next_delay_ms(
            delay, connections=args.connections, target=target, measured=result.rps
        )
    end = _memory(stack)
    # Only the comments sent during the soak: the capacity run's may still be queued.
    load_end = _counts(stack, after=before["last_comment"])
    drained = _drain(stack, before)
    return {
        "minutes": (time.monotonic() - started) / 60,
        "rounds": rounds,
        "rps": median([r["rps"] for r in rounds]),
        "errors": sum(r["errors"] for r in rounds),
        "requests": sum(r["requests"] for r in rounds),
        "memory": {
            name: {
                "warm_kb": (warm or end)[name]["kb"],
                "end_kb": end[name]["kb"],
                "growth_percent": growth_percent((warm or end)[name]["kb"], end[name]["kb"]),
                "same_processes": (warm or end)[name]["pids"] == end[name]["pids"],
            }
            for name in ("web", "worker")
        },
        "processed": {
            "comments": load_end["last_comment"] - before["last_comment"],
            "moderated_by_end": load_end["moderated"],
            "moderated": drained["moderated"],
            "signups": load_end["subscribers"] - before["subscribers"],
            "emails": drained["emails"] - before["emails"],
        },
    }


def _drain(stack: Stack, before: dict[str, int]) -> dict[str, int]:
    """Wait (bounded) until every comment the soak sent is moderated; return the counts."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:
        counts = _counts(stack, after=before["last_comment"])
        sent = counts["last_comment"] - before["last_comment"]
        if counts["moderated"] >= sent or time.monotonic() > deadline:
            time.sleep(1)  # the last sign-ups' emails
            return _counts(stack, after=before["last_comment"])
        time.sleep(1)


def _figures(result: WrkResult) -> dict[str, Any]:
    return {
        "rps": result.rps,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "errors": result.errors,
        "requests": result.requests,
    }
