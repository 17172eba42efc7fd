"""The benchmark's pure statistics: what the table's figures are computed from."""

import math

import pytest

from bench.stats import (
    WrkResult,
    cpu_us_per_request,
    median,
    parse_proc_stat,
    parse_wrk_output,
    percentile,
    ratio_spread,
    spread,
)

WRK_OUTPUT = """\
Running 2s test @ http://127.0.0.1:40000
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.12ms    3.01ms  40.00ms   80.00%
  2400 requests in 2.00s, 400.00KB read
Requests/sec:   1200.00
Transfer/sec:    200.00KB
BENCH_JSON {"requests": 2400, "duration_us": 2000000, "p50_us": 9500, "p99_us": 31250, \
"errors": {"connect": 0, "read": 1, "write": 0, "status": 3, "timeout": 2}}
"""


def test_percentile_interpolates_between_ranks():
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([10, 20, 30, 40], 100) == 40
    assert percentile([10, 20, 30, 40], 0) == 10
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) == pytest.approx(9.55)


def test_percentile_ignores_the_order_of_its_input():
    assert percentile([40, 10, 30, 20], 75) == percentile([10, 20, 30, 40], 75) == 32.5


def test_percentile_refuses_no_values_and_out_of_range_ranks():
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 101)


def test_median_of_an_odd_count_is_the_middle_value():
    assert median([3, 1, 2]) == 2


def test_spread_gives_median_and_range():
    result = spread([0.3, 0.1, 0.2, 0.9])
    assert (result.median, result.low, result.high) == (pytest.approx(0.25), 0.1, 0.9)


def test_ratio_spread_pairs_each_round_with_its_own_baseline():
    # Round two is noisy for both: its ratio stays 0.5, so the median is untouched.
    result = ratio_spread([500, 100, 600], [1000, 200, 1000])
    assert result.median == 0.5
    assert (result.low, result.high) == (0.5, 0.6)


def test_ratio_spread_shows_a_noisy_round_in_the_range_not_the_median():
    result = ratio_spread([300, 300, 300], [1000, 1000, 400])
    assert result.median == 0.3
    assert result.high == 0.75


def test_ratio_spread_needs_a_baseline_per_round():
    with pytest.raises(ValueError, match="own baseline"):
        ratio_spread([1, 2], [1])


def test_ratio_spread_skips_rounds_whose_baseline_served_nothing():
    assert ratio_spread([100, 50], [0, 100]).median == 0.5
    with pytest.raises(ValueError, match="no baseline round"):
        ratio_spread([100], [0])


def test_it_parses_the_summary_line_of_wrk_output():
    result = parse_wrk_output(WRK_OUTPUT)
    assert result == WrkResult(requests=2400, duration_s=2.0, p50_ms=9.5, p99_ms=31.25, errors=6)
    assert result.rps == 1200


def test_it_takes_the_last_summary_line_when_there_are_several():
    second = WRK_OUTPUT.replace('"requests": 2400', '"requests": 10')
    assert parse_wrk_output(WRK_OUTPUT + second).requests == 10


def test_it_says_so_when_wrk_printed_no_summary():
    with pytest.raises(ValueError, match="no BENCH_JSON line"):
        parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_a_run_of_no_time_has_no_rate():
    assert WrkResult(requests=0, duration_s=0, p50_ms=0, p99_ms=0, errors=0).rps == 0


def test_it_reads_parent_and_cpu_ticks_from_proc_stat():
    # A command name with spaces and a parenthesis must not shift the fields.
    line = "4242 (gunicorn: a) b) S 4200 4242 4242 0 -1 4194560 100 0 0 0 37 5 0 0 20 0 1 0"
    assert parse_proc_stat(line) == (4200, 42)


def test_cpu_per_request_converts_ticks_to_microseconds():
    assert cpu_us_per_request(ticks=50, requests=1000, ticks_per_second=100) == 500


def test_cpu_per_request_of_no_requests_is_not_a_number():
    assert math.isnan(cpu_us_per_request(ticks=5, requests=0, ticks_per_second=100))
