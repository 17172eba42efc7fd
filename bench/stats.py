"""Pure statistics for the benchmark: percentiles, ratios, wrk output, /proc CPU times."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

WRK_MARKER = "BENCH_JSON "


@dataclass(frozen=True)
class WrkResult:
    """One wrk run, as reported by the ``done()`` hook of ``bench/lua/common.lua``."""

    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    errors: int  # connect/read/write/timeout errors plus HTTP statuses >= 400

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0


@dataclass(frozen=True)
class Spread:
    """The median of some per-round figures and their range."""

    median: float
    low: float
    high: float


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (0-100) of ``values``, interpolating linearly."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0-100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    below, above = math.floor(rank), math.ceil(rank)
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def spread(values: Sequence[float]) -> Spread:
    return Spread(median=median(values), low=min(values), high=max(values))


def ratio_spread(operation_rps: Sequence[float], baseline_rps: Sequence[float]) -> Spread:
    """Return the median and range of per-round ratios ``operation / baseline``.

    Each round pairs one operation run with the baseline run just before it, so a burst
    of noise from a neighbour moves one round's ratio, not the figure.
    """
    if len(operation_rps) != len(baseline_rps):
        raise ValueError("every operation round needs its own baseline round")
    ratios = [op / base for op, base in zip(operation_rps, baseline_rps, strict=True) if base > 0]
    if not ratios:
        raise ValueError("no baseline round served any request")
    return spread(ratios)


def parse_wrk_output(text: str) -> WrkResult:
    """Return the figures of the ``BENCH_JSON`` line that ``common.lua`` prints at the end."""
    for line in reversed(text.splitlines()):
        if line.startswith(WRK_MARKER):
            data = json.loads(line[len(WRK_MARKER) :])
            errors = data["errors"]
            return WrkResult(
                requests=int(data["requests"]),
                duration_s=float(data["duration_us"]) / 1e6,
                p50_ms=float(data["p50_us"]) / 1000,
                p99_ms=float(data["p99_us"]) / 1000,
                errors=sum(int(errors[key]) for key in errors),
            )
    raise ValueError(f"no {WRK_MARKER.strip()} line in wrk output:\n{text[-2000:]}")


def parse_proc_stat(line: str) -> tuple[int, int]:
    """Return ``(ppid, utime + stime in clock ticks)`` from a ``/proc/<pid>/stat`` line."""
    # The command name (field 2) is in parentheses and may itself contain spaces or ")".
    fields = line[line.rindex(")") + 2 :].split()
    ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
    return ppid, utime + stime


def cpu_us_per_request(*, ticks: int, requests: int, ticks_per_second: int) -> float:
    """Return the CPU microseconds each request cost, from clock ticks spent over a run."""
    if requests <= 0:
        return math.nan
    return ticks * 1e6 / ticks_per_second / requests
