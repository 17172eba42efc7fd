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
    mode = meta.get("mode", "standard")
    rounds = (
        f"{meta['rounds']} rounds x {meta['duration']:g} s per operation, "
        if mode not in ("soak", "newsletter")
        else ""
    )
    lines = [
        f"reex bench{'' if mode == 'standard' else ' --' + mode} {meta['started']} commit "
        f"{meta['commit']}: {rounds}{meta['connections']} connections, "
        f"{'quick' if meta['quick'] else 'full'} ({meta['elapsed']:.0f} s in all)",
        "",
    ]
    if mode == "scale":
        lines += _scale(report)
    elif mode == "soak":
        lines += _soak(report)
    elif mode == "newsletter":
        lines += _newsletter(report["newsletter"])
    else:
        lines += _tables(report)
    return "\n".join(lines) + "\n"


def _tables(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if "web" in report:
        lines += [WEB_HEADER, *(_web_row(row) for row in report["web"]), ""]
    if "rivals" in report:
        lines += [*rivals_table(report["rivals"]), ""]
    if "workers" in report:
        lines.append(f"{'worker':<36} {'figure':<70}  target")
        for key, label, describe, target in WORKER_ROWS:
            row = report["workers"][key]
            figure = describe(row) if row["status"] == "ok" else row["status"]
            lines.append(f"{label:<36} {figure:<70}  {target}")
    if "newsletter" in report:
        lines += ["", *_newsletter(report["newsletter"])]
    return lines[:-1] if lines and not lines[-1] else lines


RIVALS_HEADER = (
    f"{'same run, interleaved: reex x other':<36} {'req/s':>7} {'other':>7} {'p99 ms':>7} "
    f"{'other':>7} {'CPU us/req':>11} {'x by CPU':>8} {'x other (min-max)':>18} {'errors':>9}"
    "  target"
)


def rivals_table(rows: list[dict[str, Any]]) -> list[str]:
    """Rows comparing reex with a rival (or with itself, metrics off): both sides' req/s."""
    return [RIVALS_HEADER, *(_rival_row(row) for row in rows)]


def _rival_row(row: dict[str, Any]) -> str:
    if row["status"] != "ok":
        return f"{row['operation']:<36} {row['status']}  {row['target']}"
    ratio = f"{row['ratio']:.2f} ({row['ratio_low']:.2f}-{row['ratio_high']:.2f})"
    errors = f"{row['errors']}/{row['other_errors']}"
    cpu = f"{row['cpu_us']:.0f}/{row['other_cpu_us']:.0f}"
    return (
        f"{row['operation']:<36} {row['rps']:>7.0f} {row['other_rps']:>7.0f} "
        f"{row['p99_ms']:>7.1f} {row['other_p99_ms']:>7.1f} {cpu:>11} "
        f"{_x(row.get('cpu_ratio')):>8} {ratio:>18} {errors:>9}  {row['target']}"
    )


def _newsletter(row: dict[str, Any]) -> list[str]:
    if row["status"] != "ok":
        return [f"{'newsletter':<36} {row['status']}"]
    edition, rate = row["edition"], row["rate"]
    growth = edition["rss_after_kb"] - edition["rss_before_kb"]
    return [
        f"{'newsletter (' + format(row['subscribers'], ',') + ' subscribers)':<36} figure",
        f"{'edition to the sink, 2 processes':<36} {edition['per_second']:.0f}/s "
        f"({edition['received']:,} of {edition['recipients']:,} in {edition['seconds']:.1f} s); "
        f"plain smtplib, 2 connections {row['baseline_per_second']:.0f}/s: "
        f"{row['ratio']:.2f}x  target >= 0.5x and >= 500/s",
        f"{'worker memory during the send':<36} {edition['rss_before_kb'] / 1024:.0f} MB before, "
        f"{edition['rss_after_kb'] / 1024:.0f} MB after ({growth / 1024:+.0f} MB)  "
        "target: no growth with the list",
        f"{'compose + delivery rows':<36} {row['compose_seconds']:.1f} s  target < 10 s",
        f"{'REEX_SEND_RATE=' + str(rate['target']):<36} {rate['per_second']:.1f}/s over "
        f"{rate['seconds']} s ({rate['off_percent']:+.1f}%)  target within 5%",
    ]


def _x(value: float | None) -> str:
    return "   -" if value is None else f"{value:.2f}"


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _rows(rows: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {kind}" for kind, n in rows.items())


def _scale(report: dict[str, Any]) -> list[str]:
    small, large, comparison = report["small"], report["large"], report["comparison"]
    lines = [f"small: {_rows(small['rows'])}", *_tables(small), ""]
    seeded = large["seeded"]
    lines += [
        f"large: {_rows(large['rows'])} (seed_bench added {_rows(seeded['added'])} "
        f"in {seeded['seconds']:.0f} s)",
        *_tables(large),
        "",
        f"{'large / small (target <= 1.2x)':<36} {'CPU us small':>12} {'large':>7} {'x':>5}"
        f" {'x bare small':>12} {'large':>6} {'x':>5}",
    ]
    for row in comparison["web"]:
        lines.append(
            f"{row['operation']:<36} {row['cpu_small']:>12.0f} {row['cpu_large']:>7.0f} "
            f"{_x(row['cpu_slowdown']):>5} {row['ratio_small']:>12.2f} {row['ratio_large']:>6.2f}"
            f" {_x(row['ratio_slowdown']):>5}  {_verdict(row['ok'])}"
        )
    for row in comparison["workers"]:
        lines.append(
            f"{row['figure']:<36} {row['small']:>12.0f} {row['large']:>7.0f} "
            f"{_x(row['slowdown']):>5} {'':>12} {'':>6} {'':>5}  {_verdict(row['ok'])}"
        )
    lines += [
        "",
        f"{'moderator lists (20 requests each)':<36} {'small ms':>8} {'median':>7} {'p95':>7}"
        f" {'CPU ms':>6} {'queries':>7} {'unfiltered COUNT':>16}"
        "  target <= 100 ms, no COUNT(*) of the table",
    ]
    for row in comparison["lists"]:
        small_ms = "-" if row["small_ms"] is None else f"{row['small_ms']:.1f}"
        lines.append(
            f"{row['label']:<36} {small_ms:>8} {row['median_ms']:>7.1f} {row['p95_ms']:>7.1f}"
            f" {_cpu_ms(row.get('cpu_ms')):>6} {row['queries']:>7} {row['unfiltered_counts']:>16}"
            f"  {_verdict(row['ok'])}"
        )
    lines += ["", "SQL of each list at a million rows:"]
    for row in large["lists"]:
        lines.append(f"- {row['label']} ({row['path']}):")
        lines += [f"    {_short(sql)}" for sql in row["sql"]]
    return lines


def _cpu_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _short(sql: str, width: int = 200) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _soak(report: dict[str, Any]) -> list[str]:
    capacity, memory, done = report["capacity"], report["memory"], report["processed"]
    errors = report["errors"]
    lines = [
        f"capacity (mixed, unpaced): {capacity['rps']:.0f} req/s, p99 {capacity['p99_ms']:.0f} ms;"
        f" held {report['target_rps']:.0f} req/s for {report['minutes']:.1f} min "
        f"in {len(report['rounds'])} rounds: median {report['rps']:.0f} req/s "
        f"(rounds {min(r['rps'] for r in report['rounds']):.0f}-"
        f"{max(r['rps'] for r in report['rounds']):.0f}), "
        f"p99 {max(r['p99_ms'] for r in report['rounds']):.0f} ms at worst",
        f"errors: {errors} of {report['requests']:,} requests "
        f"(non-2xx answers and socket errors)  {_verdict(errors == 0)} (target: zero)",
    ]
    for name, label in (("web", "gunicorn (master + workers)"), ("worker", "celery (all)")):
        row = memory[name]
        restarted = "" if row["same_processes"] else ", processes were replaced meanwhile"
        lines.append(
            f"memory {label}: {row['warm_kb'] / 1024:.1f} MB after the warm-up minute, "
            f"{row['end_kb'] / 1024:.1f} MB at the end: {row['growth_percent']:+.1f}%"
            f"{restarted}  {_verdict(row['growth_percent'] <= 10)} (target: <= 10%)"
        )
    lines.append(
        f"processed: {done['comments']:,} comments sent, {done['moderated_by_end']:,} moderated "
        f"by the end of the load, {done['moderated']:,} after the drain; {done['signups']:,} "
        f"sign-ups, {done['emails']:,} emails into the sink"
    )
    return lines


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
