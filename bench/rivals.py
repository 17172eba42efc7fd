"""reex next to its rivals, next to itself without metrics, and next to itself (A/A).

Each comparison runs the same number of rounds as the web rows; a round is one wrk run
on reex's side, then one on the other side, so that a burst of load from elsewhere on the
machine falls on both. The ratio is reex / other per round; the row gives its median and
range. The rivals (django-comments-xtd, Isso) are installed on first use, and a rival
that cannot be installed or started becomes a row saying why; the rest goes on.
"""

from __future__ import annotations

import json
import logging
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from bench import rival_servers
from bench.rival_servers import Rival, RivalUnavailable
from bench.stats import WrkResult, cpu_us_per_request, median, ratio_spread
from bench.web import CLK_TCK, Load, Operation, probe, run_wrk, worker_ticks
from devstack.processes import ProcessExitedError
from devstack.stack import Stack

logger = logging.getLogger("bench")
# Rows and targets of issue 15: reex / rival for the same thing, rival installed alike.
TARGETS = {
    ("xtd", "post"): ">= 5x",
    ("xtd", "listing"): ">= 3x",
    ("Isso", "post"): ">= 3x",
    ("Isso", "listing"): ">= 5x",
}
LABELS = {"post": "POST comment x {}", "listing": "GET 50 approved x {}"}
METRICS_LABEL = "POST comment, metrics on x off"
METRICS_TARGET = ">= 0.95"
AA_LABEL = "POST comment, A/A (same setup twice)"
AA_TARGET = "1.00 but for noise"
FAILURES = (RivalUnavailable, ProcessExitedError, OSError, TimeoutError, RuntimeError,
            subprocess.SubprocessError)  # fmt: skip


@dataclass(frozen=True)
class Side:
    """One side of a comparison: an operation on one gunicorn."""

    base_url: str
    operation: Operation
    master_pid: int


@dataclass
class Pair:
    """A comparison measured round by round: reex's runs and the other side's."""

    key: str
    label: str
    target: str
    reex: Side
    other: Side
    reex_runs: list[WrkResult] = field(default_factory=list)
    other_runs: list[WrkResult] = field(default_factory=list)
    reex_cpu: list[float] = field(default_factory=list)
    other_cpu: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return pair_summary(self)


def pair_summary(pair: Pair) -> dict[str, Any]:
    """Return the report row of a measured pair (reex's and the other side's figures)."""
    ratio = ratio_spread([r.rps for r in pair.reex_runs], [r.rps for r in pair.other_runs])
    return {
        "operation": pair.label,
        "key": pair.key,
        "status": "ok",
        "rps": median([r.rps for r in pair.reex_runs]),
        "other_rps": median([r.rps for r in pair.other_runs]),
        "p99_ms": median([r.p99_ms for r in pair.reex_runs]),
        "other_p99_ms": median([r.p99_ms for r in pair.other_runs]),
        "cpu_us": median(pair.reex_cpu),
        "other_cpu_us": median(pair.other_cpu),
        "ratio": ratio.median,
        # What the ratio would be if CPU were all that limits each side: steadier on a
        # loaded machine, where the req/s of either side also measure the neighbours.
        "cpu_ratio": median(pair.other_cpu) / median(pair.reex_cpu)
        if median(pair.reex_cpu)
        else None,
        "ratio_low": ratio.low,
        "ratio_high": ratio.high,
        "errors": sum(r.errors for r in pair.reex_runs),
        "other_errors": sum(r.errors for r in pair.other_runs),
        "rounds": len(pair.reex_runs),
        "target": pair.target,
    }


def _measured(side: Side, load: Load) -> tuple[WrkResult, float]:
    before = worker_ticks(side.master_pid)
    result = run_wrk(side.base_url, side.operation, load)
    ticks = worker_ticks(side.master_pid) - before
    cpu = cpu_us_per_request(ticks=ticks, requests=result.requests, ticks_per_second=CLK_TCK)
    return result, cpu


def paired_rounds(pairs: list[Pair], *, load: Load, rounds: int) -> None:
    """Warm every side up, then run ``rounds`` rounds of (reex, other) for every pair."""
    warm = Load(duration=1, connections=load.connections, threads=load.threads)
    for pair in pairs:
        for side in (pair.reex, pair.other):
            run_wrk(side.base_url, side.operation, warm)
    for number in range(1, rounds + 1):
        for pair in pairs:
            reex, reex_cpu = _measured(pair.reex, load)
            other, other_cpu = _measured(pair.other, load)
            pair.reex_runs.append(reex)
            pair.reex_cpu.append(reex_cpu)
            pair.other_runs.append(other)
            pair.other_cpu.append(other_cpu)
            logger.info(
                "round %d %s: reex %.0f req/s, other %.0f req/s (ratio %.2f)",
                number, pair.key, reex.rps, other.rps, reex.rps / other.rps if other.rps else 0.0,
            )  # fmt: skip


def failed_row(key: str, label: str, target: str, reason: str) -> dict[str, Any]:
    return {"operation": label, "key": key, "status": reason, "target": target}


def rival_pairs(rival: Rival, reex: dict[str, Side]) -> list[Pair]:
    """Return the pairs (POST, list) of reex against ``rival``, labelled with their targets."""
    return [
        Pair(
            key=f"{rival.name.lower()}_{kind}",
            label=LABELS[kind].format(rival.name),
            target=TARGETS[(rival.name, kind)],
            reex=reex[kind],
            other=Side(rival.base_url, getattr(rival, kind), rival.master_pid),
        )
        for kind in ("post", "listing")
    ]


def _rival_failure(name: str, reason: str) -> list[dict[str, Any]]:
    logger.warning("rival %s left out: %s", name, reason)
    return [
        failed_row(
            f"{name.lower()}_{kind}",
            LABELS[kind].format(name),
            TARGETS[(name, kind)],
            f"n/a ({reason})",
        )
        for kind in ("post", "listing")
    ]


RivalStarter = Callable[[Stack], AbstractContextManager[Rival]]
STARTERS: dict[str, RivalStarter] = {
    "xtd": rival_servers.running_xtd,
    "Isso": rival_servers.running_isso,
}


def _probe_comment() -> bytes:
    token = secrets.token_hex(4)
    return json.dumps(
        {"author_name": "Probe", "author_email": f"probe-{token}@bench.example.org",
         "body": f"Probe {token}."}
    ).encode()  # fmt: skip


def _answers(url: str, post: Operation) -> bool:
    return probe(url, replace(post, probe_body=_probe_comment())) is None


@contextmanager
def _fresh_servers(stack: Stack, post: Operation, settings: dict[str, str]) -> Iterator[list[Side]]:
    """One more gunicorn per name in ``settings`` (REEX_METRICS=its value), each started the
    same way on the same stack and answering ``post``; stopped afterwards."""
    processes = []
    try:
        for name, metrics in settings.items():
            process, url = stack.start_web(name=name, REEX_METRICS=metrics)
            processes.append((process, url))
        for _, url in processes:
            stack.wait_until(partial(_answers, url, post), timeout=60)
        yield [Side(url, post, process.pid) for process, url in processes]
    finally:
        for process, _ in processes:
            process.stop()


def run(
    stack: Stack, *, post: Operation, listing: Operation, load: Load, rounds: int
) -> list[dict[str, Any]]:
    """Measure reex against each rival that starts, and with metrics off; return the rows."""
    assert stack.web is not None
    reex = {kind: Side(stack.base_url, op, stack.web.pid) for kind, op in
            (("post", post), ("listing", listing))}  # fmt: skip
    rows: list[dict[str, Any]] = []
    for name, start in STARTERS.items():
        rows += _against(stack, name, start, reex, load=load, rounds=rounds)
    rows += metrics_rows(stack, post, load=load, rounds=rounds)
    return rows


def _against(
    stack: Stack, name: str, start: RivalStarter, reex: dict[str, Side], *, load: Load,
    rounds: int,
) -> list[dict[str, Any]]:  # fmt: skip
    rival_key = "xtd" if name == "xtd" else "isso"
    try:
        rival_servers.ensure_installed(rival_key, python=sys.executable)
        with start(stack) as rival:
            pairs = rival_pairs(rival, reex)
            for pair in pairs:
                reason = probe(rival.base_url, pair.other.operation)
                if reason is not None:
                    raise RivalUnavailable(f"{pair.other.operation.label}: {reason}")
            rival_servers.check_listing(rival)
            paired_rounds(pairs, load=load, rounds=rounds)
    except FAILURES as error:
        return _rival_failure(name, f"{type(error).__name__}: {error}"[:200])
    return [pair.summary() for pair in pairs]


def metrics_rows(stack: Stack, post: Operation, *, load: Load, rounds: int) -> list[dict[str, Any]]:
    """Metrics on x off, and the same setup twice (A/A: what the pair's noise alone gives).

    The three sides are gunicorns started alike for this, not the stack's server, which
    has answered every earlier row (its workers recycled, its heap grown) by now.
    """
    servers = {"web-metrics-on": "1", "web-metrics-off": "0", "web-metrics-on-again": "1"}
    try:
        with _fresh_servers(stack, post, servers) as (on, off, again):
            pairs = [Pair("metrics_cost", METRICS_LABEL, METRICS_TARGET, on, off),
                     Pair("metrics_aa", AA_LABEL, AA_TARGET, on, again)]  # fmt: skip
            paired_rounds(pairs, load=load, rounds=rounds)
    except FAILURES as error:
        reason = f"error: {type(error).__name__}: {error}"[:200]
        return [failed_row("metrics_cost", METRICS_LABEL, METRICS_TARGET, reason),
                failed_row("metrics_aa", AA_LABEL, AA_TARGET, reason)]  # fmt: skip
    return [pair.summary() for pair in pairs]
