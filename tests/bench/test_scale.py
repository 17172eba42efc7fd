"""The scale comparison: what to seed, and how much worse each figure got at a million rows."""

import math

import pytest

from bench.scale import compare, missing_rows, slowdown


def test_it_adds_only_what_is_missing():
    have = {"comments": 400_000, "articles": 20_500, "subscribers": 0}
    want = {"comments": 1_000_000, "articles": 20_000, "subscribers": 200_000}
    assert missing_rows(have=have, want=want) == {
        "comments": 600_000,
        "articles": 0,
        "subscribers": 200_000,
    }


def test_a_slower_cost_or_a_lower_rate_is_a_slowdown_above_one():
    assert slowdown(1000, 1100, higher_is_better=False) == pytest.approx(1.1)
    assert slowdown(0.30, 0.25, higher_is_better=True) == pytest.approx(1.2)


def test_a_faster_figure_is_a_slowdown_below_one():
    assert slowdown(0.25, 0.30, higher_is_better=True) == pytest.approx(0.25 / 0.30)


def test_a_missing_figure_gives_no_slowdown():
    assert slowdown(0, 100, higher_is_better=False) is None
    assert slowdown(math.nan, 100, higher_is_better=False) is None


def _web(key, cpu, ratio):
    return {"key": key, "operation": key, "status": "ok", "cpu_us": cpu, "ratio": ratio}


def _list(key, ms, counts=()):
    return {
        "key": key,
        "label": key,
        "median_ms": ms,
        "p95_ms": ms * 1.5,
        "queries": 6,
        "unfiltered_counts": list(counts),
        "statuses": [200],
    }


def _phase(cpu, ratio, per_second, lists):
    return {
        "web": [_web("bare", 400, 1.0), _web("comment_post", cpu, ratio)],
        "workers": {
            "moderation": {"status": "ok", "per_second": per_second},
            "latency": {"status": "error: timeout"},
            "emails": {"status": "ok", "per_second": 100.0},
        },
        "lists": lists,
    }


def test_each_operation_passes_only_within_the_target_on_both_figures():
    small = _phase(1000, 0.30, 100.0, [_list("admin", 30)])
    large = _phase(1100, 0.20, 90.0, [_list("admin", 60)])
    result = compare(small, large)
    (post,) = result["web"]
    assert post["cpu_slowdown"] == pytest.approx(1.1)
    assert post["ratio_slowdown"] == pytest.approx(1.5)
    assert post["ok"] is False
    assert [(w["figure"], w["ok"]) for w in result["workers"]] == [
        ("moderation throughput (/s)", True),
        ("confirmation emails (/s)", True),
    ]


def test_a_list_fails_when_slow_or_when_it_counts_the_whole_table():
    small = _phase(1000, 0.30, 100.0, [_list("fast", 10), _list("slow", 10), _list("counts", 10)])
    large_lists = [_list("fast", 40), _list("slow", 140), _list("counts", 40, ["SELECT COUNT(*)"])]
    large = _phase(1000, 0.30, 100.0, large_lists)
    verdicts = {row["label"]: row["ok"] for row in compare(small, large)["lists"]}
    assert verdicts == {"fast": True, "slow": False, "counts": False}
