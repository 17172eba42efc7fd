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


def _scale_phase(rows):
    return {
        "rows": rows,
        "seeded": {"added": {"comments": 0, "articles": 0, "subscribers": 0}, "seconds": 2.0},
        "web": [MEASURED],
        "workers": WORKERS,
        "lists": [
            {
                "label": "admin list, page 1",
                "path": "/admin/comments/comment/",
                "sql": ['SELECT COUNT(*) FROM "comments_comment"'],
            }
        ],
    }


def _scale_report():
    comparison = {
        "web": [
            {
                "operation": "POST comment (API)",
                "cpu_small": 1500.0,
                "cpu_large": 1650.0,
                "cpu_slowdown": 1.1,
                "ratio_small": 0.30,
                "ratio_large": 0.24,
                "ratio_slowdown": 1.25,
                "ok": False,
            }
        ],
        "workers": [],
        "lists": [
            {
                "label": "admin list, page 1",
                "small_ms": 12.0,
                "median_ms": 40.5,
                "p95_ms": 60.0,
                "cpu_ms": 31.0,
                "queries": 12,
                "unfiltered_counts": 1,
                "ok": False,
            }
        ],
    }
    return {
        "meta": {**META, "mode": "scale"},
        "small": _scale_phase({"comments": 1050}),
        "large": _scale_phase({"comments": 1_000_000}),
        "comparison": comparison,
    }


def test_the_scale_report_compares_each_operation_with_its_small_figure():
    table = render(_scale_report())
    # After the two phases' own tables (small, then large) comes the comparison.
    line = [row for row in table.splitlines() if row.startswith("POST comment (API)  ")][-1]
    assert line.split()[3:] == ["1500", "1650", "1.10", "0.30", "0.24", "1.25", "MISSED"]
    assert "large: 1,000,000 comments" in table


def test_the_scale_report_shows_each_list_and_the_sql_it_ran():
    table = render(_scale_report())
    line = next(row for row in table.splitlines() if row.startswith("admin list, page 1  "))
    assert line.split()[4:] == ["12.0", "40.5", "60.0", "31", "12", "1", "MISSED"]
    assert '    SELECT COUNT(*) FROM "comments_comment"' in table.splitlines()


def _soak_report():
    rounds = [
        {"rps": 200.0, "p50_ms": 5.0, "p99_ms": 30.0, "errors": 0, "requests": 6000},
        {"rps": 220.0, "p50_ms": 5.0, "p99_ms": 45.0, "errors": 2, "requests": 6600},
    ]
    memory = {"warm_kb": 204800, "end_kb": 215040, "growth_percent": 5.0, "same_processes": True}
    return {
        "meta": {**META, "mode": "soak"},
        "capacity": {"rps": 420.0, "p50_ms": 30.0, "p99_ms": 90.0, "errors": 0, "requests": 4200},
        "target_rps": 210.0,
        "minutes": 1.0,
        "rounds": rounds,
        "rps": 210.0,
        "errors": 2,
        "requests": 12600,
        "memory": {"web": memory, "worker": {**memory, "growth_percent": 12.5}},
        "processed": {
            "comments": 2520,
            "moderated_by_end": 2500,
            "moderated": 2520,
            "signups": 1260,
            "emails": 1260,
        },
    }


def test_the_soak_report_gives_errors_memory_growth_and_work_done():
    lines = render(_soak_report()).splitlines()
    errors = next(line for line in lines if line.startswith("errors:"))
    assert errors.startswith("errors: 2 of 12,600 requests")
    assert "MISSED" in errors
    web = next(line for line in lines if line.startswith("memory gunicorn"))
    worker = next(line for line in lines if line.startswith("memory celery"))
    assert "200.0 MB after the warm-up minute, 210.0 MB at the end: +5.0%  ok" in web
    assert "+12.5%  MISSED" in worker
    assert "2,520 comments sent, 2,500 moderated by the end of the load" in "\n".join(lines)
