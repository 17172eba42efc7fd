"""The one plain-text table the benchmark prints, and its JSON twin in var/bench/last.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WEB_HEADER = (
    f"{'operation':<36} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10} "
    f"{'x bare (min-max)':>18} {'errors':>6}  target"
)


def _web_row(row: dict[str, Any]) -> str:
    if row["status"] != "ok":
        return f"{row['operation']:<36} {row['status']}"
    ratio = f"{row['ratio']:.2f} ({row['ratio_low']:.2f}-{row['ratio_high']:.2f})"
    return (
        f"{row['operation']:<36} {row['rps']:>7.0f} {row['p50_ms']:>7.1f} {row['p99_ms']:>7.1f} "
        f"{row['cpu_us']:>10.0f} {ratio:>18} {row['errors']:>6}  {row['target']}"
    )


def _moderation(row: dict[str, Any]) -> str:
    decisions = ", ".join(f"{k} {v}" for k, v in sorted(row["decisions"].items()))
    return (
        f"{row['per_second']:.0f} comments/s "
        f"({row['count']} in {row['seconds']:.1f} s; {decisions})"
    )


def _latency(row: dict[str, Any]) -> str:
    return (
        f"p50 {row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms "
        f"({row['decided']}/{row['count']} decided, {row['refused']} refused, "
        f"offered {row['offered_per_second']:.0f}/s)"
    )


def _emails(row: dict[str, Any]) -> str:
    return (
        f"{row['per_second']:.0f}/s ({row['count']} sign-ups, "
        f"{row['lost']} lost, {row['doubled']} doubled)"
    )


WORKER_ROWS = (
    ("moderation", "moderation throughput", _moderation, ">= 400/s with 2 processes"),
    ("latency", "submit-to-decision at 50/s", _latency, "p95 <= 250 ms"),
    ("emails", "confirmation emails to the sink", _emails, ">= 300/s, none lost or doubled"),
)


def render(report: dict[str, Any]) -> str:
    """Return the whole report as a plain-text table."""
    meta = report["meta"]
    lines = [
        f"reex bench {meta['started']} commit {meta['commit']}: {meta['rounds']} rounds x "
        f"{meta['duration']:g} s per operation, {meta['connections']} connections, "
        f"{'quick' if meta['quick'] else 'full'} ({meta['elapsed']:.0f} s in all)",
        "",
        WEB_HEADER,
        *(_web_row(row) for row in report["web"]),
        "",
        f"{'worker':<36} {'figure':<70}  target",
    ]
    for key, label, describe, target in WORKER_ROWS:
        row = report["workers"][key]
        figure = describe(row) if row["status"] == "ok" else row["status"]
        lines.append(f"{label:<36} {figure:<70}  {target}")
    return "\n".join(lines) + "\n"


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
