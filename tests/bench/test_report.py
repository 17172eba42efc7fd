"""The benchmark's table: measured rows show their figures, missing capabilities say n/a."""

import json

from bench.report import render, write_json

META = {
    "started": "2026-01-01 00:00 UTC",
    "commit": "abc1234",
    "quick": True,
    "rounds": 3,
    "duration": 2.0,
    "connections": 16,
    "elapsed": 95.0,
}
MEASURED = {
    "operation": "POST comment (API)",
    "key": "comment_post",
    "status": "ok",
    "rps": 512.4,
    "p50_ms": 12.34,
    "p99_ms": 24.9,
    "cpu_us": 1500.0,
    "ratio": 0.3,
    "ratio_low": 0.25,
    "ratio_high": 0.35,
    "errors": 0,
    "target": ">= 0.25x",
}
MISSING = {"operation": "POST subscription sign-up (API)", "key": "subscribe", "status": "n/a"}
WORKERS = {
    "moderation": {
        "status": "ok",
        "count": 600,
        "seconds": 1.5,
        "per_second": 400.0,
        "decisions": {"approved": 590, "pending": 10},
    },
    "latency": {
        "status": "ok",
        "count": 100,
        "decided": 100,
        "refused": 0,
        "offered_per_second": 50.0,
        "p50_ms": 40.0,
        "p95_ms": 120.0,
    },
    "emails": {"status": "n/a (not built yet)"},
}


def _report():
    return {"meta": META, "web": [MEASURED, MISSING], "workers": WORKERS}


def test_a_measured_operation_shows_rate_latency_cpu_and_ratio_spread():
    line = next(row for row in render(_report()).splitlines() if row.startswith("POST comment"))
    assert line.split()[3:9] == ["512", "12.3", "24.9", "1500", "0.30", "(0.25-0.35)"]


def test_an_operation_that_is_not_built_says_so_instead_of_figures():
    lines = render(_report()).splitlines()
    assert "POST subscription sign-up (API)      n/a" in lines


def test_worker_figures_show_throughput_latency_and_missing_ones():
    table = render(_report())
    assert "400 comments/s (600 in 1.5 s; approved 590, pending 10)" in table
    assert "p50 40 ms, p95 120 ms (100/100 decided, 0 refused, offered 50/s)" in table
    assert "confirmation emails to the sink      n/a (not built yet)" in table


def test_the_header_names_the_run():
    first = render(_report()).splitlines()[0]
    assert first.startswith("reex bench 2026-01-01 00:00 UTC commit abc1234: 3 rounds x 2 s")


def test_the_json_twin_holds_the_same_figures(tmp_path):
    path = tmp_path / "bench" / "last.json"
    write_json(_report(), path)
    assert json.loads(path.read_text()) == _report()
