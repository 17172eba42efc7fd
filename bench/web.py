"""HTTP operations under wrk: probes, interleaved rounds against the bare view, CPU time."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from bench.stats import (
    WrkResult,
    cpu_us_per_request,
    median,
    parse_proc_stat,
    parse_wrk_output,
    ratio_spread,
)

logger = logging.getLogger("bench")
LUA_DIR = Path(__file__).resolve().parent / "lua"
WRK = "/usr/bin/wrk"
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Load:
    duration: float
    connections: int
    threads: int = 2


@dataclass(frozen=True)
class Operation:
    """One thing a client does over HTTP, and how to check that it works before loading it."""

    key: str
    label: str
    script: str
    path: str
    target: str
    method: str = "GET"
    probe_body: bytes | None = None
    content_type: str = "application/json"
    expect: tuple[int, ...] = (HTTPStatus.OK,)
    env: dict[str, str] = field(default_factory=dict)
    # Background activity kept up while (and only while) this operation is measured.
    during: Callable[[], AbstractContextManager[object]] = nullcontext


@dataclass
class Measured:
    """Every round of one operation next to the baseline round run just before it."""

    operation: Operation
    runs: list[WrkResult] = field(default_factory=list)
    baseline: list[WrkResult] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    baseline_cpu_us: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        ratio = ratio_spread([r.rps for r in self.runs], [r.rps for r in self.baseline])
        return {
            "operation": self.operation.label,
            "key": self.operation.key,
            "status": "ok",
            "rps": median([r.rps for r in self.runs]),
            "p50_ms": median([r.p50_ms for r in self.runs]),
            "p99_ms": median([r.p99_ms for r in self.runs]),
            "cpu_us": median(self.cpu_us),
            "ratio": ratio.median,
            "ratio_low": ratio.low,
            "ratio_high": ratio.high,
            "errors": sum(r.errors for r in self.runs),
            "requests": sum(r.requests for r in self.runs),
            "rounds": len(self.runs),
            "target": self.operation.target,
        }


def probe(base_url: str, operation: Operation) -> str | None:
    """Send one request as the operation would; return why it cannot be measured, or None."""
    data = operation.probe_body if operation.method == "POST" else None
    request = Request(base_url + operation.path, data=data, method=operation.method)  # noqa: S310
    request.add_header("Content-Type", operation.content_type)
    try:
        with urlopen(request, timeout=10) as response:  # noqa: S310 (loopback URL we built)
            status, body = int(response.status), response.read(300)
    except HTTPError as error:
        status, body = error.code, error.read(300)
    except (URLError, OSError) as error:
        return f"error: {error}"
    if status in operation.expect:
        return None
    if status == HTTPStatus.NOT_FOUND:
        return "n/a (not built yet)"
    return f"error: probe answered {status}: {body.decode('utf-8', 'replace')[:120]}"


def worker_ticks(master_pid: int) -> int:
    """Return the CPU clock ticks (user + system) used so far by the master's children."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                ppid, ticks = parse_proc_stat(stat.read())
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended between listing and reading
        if ppid == master_pid:
            total += ticks
    return total


def run_wrk(base_url: str, operation: Operation, load: Load) -> WrkResult:
    env = dict(os.environ)
    env.update(
        BENCH_LUA_DIR=str(LUA_DIR),
        BENCH_PATH=operation.path,
        BENCH_NONCE=secrets.token_hex(4),
        BENCH_THREADS=str(load.threads),
        **operation.env,
    )
    argv = [
        WRK, f"--threads={load.threads}", f"--connections={load.connections}",
        f"--duration={max(1, round(load.duration))}s", "--timeout=10s",
        f"--script={LUA_DIR / operation.script}", base_url,
    ]  # fmt: skip
    result = subprocess.run(  # noqa: S603 (fixed program, arguments we built)
        argv, env=env, capture_output=True, text=True, timeout=load.duration + 60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr}{result.stdout}")
    return parse_wrk_output(result.stdout)


def measured_run(
    base_url: str, operation: Operation, load: Load, *, master_pid: int
) -> tuple[WrkResult, float]:
    """Run wrk once; return its figures and the web workers' CPU microseconds per request."""
    before = worker_ticks(master_pid)
    result = run_wrk(base_url, operation, load)
    ticks = worker_ticks(master_pid) - before
    cpu = cpu_us_per_request(ticks=ticks, requests=result.requests, ticks_per_second=CLK_TCK)
    return result, cpu


def interleaved_rounds(
    base_url: str,
    *,
    baseline: Operation,
    operations: list[Operation],
    load: Load,
    rounds: int,
    master_pid: int,
) -> list[Measured]:
    """Run ``rounds`` rounds of (baseline, op) pairs for every operation, after a warm-up."""
    warm = Load(duration=1, connections=load.connections, threads=load.threads)
    for operation in [baseline, *operations]:
        with operation.during():
            run_wrk(base_url, operation, warm)
    results = [Measured(operation=operation) for operation in operations]
    for number in range(1, rounds + 1):
        for measured in results:
            base, base_cpu = measured_run(base_url, baseline, load, master_pid=master_pid)
            with measured.operation.during():
                run, cpu = measured_run(base_url, measured.operation, load, master_pid=master_pid)
            measured.baseline.append(base)
            measured.baseline_cpu_us.append(base_cpu)
            measured.runs.append(run)
            measured.cpu_us.append(cpu)
            logger.info(
                "round %d %s: %.0f req/s, bare %.0f req/s (ratio %.2f)",
                number,
                measured.operation.key,
                run.rps,
                base.rps,
                run.rps / base.rps if base.rps else 0.0,
            )
    return results


def baseline_summary(baseline: Operation, measured: list[Measured]) -> dict[str, object]:
    """Summarise every baseline round of the run (each operation had its own)."""
    runs = [run for m in measured for run in m.baseline]
    cpu = [value for m in measured for value in m.baseline_cpu_us]
    return {
        "operation": baseline.label,
        "key": baseline.key,
        "status": "ok",
        "rps": median([r.rps for r in runs]),
        "p50_ms": median([r.p50_ms for r in runs]),
        "p99_ms": median([r.p99_ms for r in runs]),
        "cpu_us": median(cpu),
        "ratio": 1.0,
        "ratio_low": min(r.rps for r in runs) / median([r.rps for r in runs]),
        "ratio_high": max(r.rps for r in runs) / median([r.rps for r in runs]),
        "errors": sum(r.errors for r in runs),
        "requests": sum(r.requests for r in runs),
        "rounds": len(runs),
        "target": baseline.target,
    }
