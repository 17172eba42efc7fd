"""The soak's pure parts: memory from /proc, growth, and the pacing correction."""

import pytest

from bench.soak import growth_percent, next_delay_ms, vm_rss_kb

STATUS = "Name:\tgunicorn\nVmPeak:\t  90000 kB\nVmRSS:\t   51234 kB\nThreads:\t1\n"


def test_it_reads_the_resident_set_size():
    assert vm_rss_kb(STATUS) == 51234


def test_a_process_without_resident_memory_counts_zero():
    assert vm_rss_kb("Name:\tzombie\nState:\tZ (zombie)\n") == 0


def test_growth_is_relative_to_the_first_sample():
    assert growth_percent(200_000, 220_000) == pytest.approx(10.0)
    assert growth_percent(200_000, 190_000) == pytest.approx(-5.0)


def test_growth_needs_a_first_sample():
    with pytest.raises(ValueError, match="no memory"):
        growth_percent(0, 10)


def test_a_round_too_fast_lengthens_the_delay():
    # 16 connections at 400 req/s: 40 ms per request each; 200 req/s needs 80 ms.
    assert next_delay_ms(0, connections=16, target=200, measured=400) == pytest.approx(40.0)


def test_a_round_too_slow_shortens_the_delay_but_never_below_zero():
    assert next_delay_ms(40, connections=16, target=200, measured=160) == pytest.approx(20.0)
    assert next_delay_ms(5, connections=16, target=200, measured=100) == 0.0


def test_a_round_that_served_nothing_keeps_the_delay():
    assert next_delay_ms(30, connections=16, target=200, measured=0) == 30
