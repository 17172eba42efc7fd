"""``python -m bench --newsletter``: the newsletter figures alone, full or quick."""

import pytest

from bench import cli, newsletter, results
from bench.report import render

META = {
    "started": "2026-01-01 00:00 UTC",
    "commit": "abc1234",
    "mode": "newsletter",
    "quick": False,
    "rounds": 5,
    "duration": 5,
    "connections": 16,
    "elapsed": 400.0,
}
LETTER = {
    "status": "ok",
    "subscribers": 100_000,
    "compose_seconds": 1.8,
    "edition": {
        "recipients": 100_000,
        "seconds": 125.0,
        "per_second": 800.0,
        "received": 100_000,
        "rss_before_kb": 500 * 1024,
        "rss_after_kb": 502 * 1024,
    },
    "baseline_per_second": 1200.0,
    "ratio": 800 / 1200,
    "rate": {"target": 100, "seconds": 60, "messages": 6000, "per_second": 100.0,
             "off_percent": 0.0},
}  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "mode", "quick"),
    [
        (["--newsletter"], "newsletter", False),
        (["--newsletter", "--quick"], "newsletter", True),
        ([], "standard", False),
        (["--soak"], "soak", False),
    ],
)
def test_the_mode_is_chosen_on_the_command_line(argv, mode, quick):
    args = cli._arguments(argv)
    assert (args.mode, args.quick) == (mode, quick)


def test_newsletter_excludes_the_other_modes():
    with pytest.raises(SystemExit):
        cli._arguments(["--newsletter", "--scale"])


def test_the_newsletter_table_stands_alone_under_its_own_command():
    table = render({"meta": META, "newsletter": LETTER})
    assert "newsletter (100,000 subscribers)" in table
    assert "800/s" in table and "0.67x" in table
    assert "REEX_SEND_RATE=100" in table and "over 60 s" in table
    assert "rounds" not in table.splitlines()[0]
    assert results.command(META) == "python -m bench --newsletter"


def test_the_full_run_is_100000_subscribers_and_a_minute_at_the_rate(mocker):
    seen = _run(mocker, quick=False)
    assert seen["subscribers"] == 100_000
    assert seen["rate_seconds"] == 60


def test_the_quick_run_is_small_but_enough_for_its_rate_window(mocker):
    seen = _run(mocker, quick=True)
    assert seen["subscribers"] == 3_500  # 100/s over 15 s and 20 s more
    assert seen["rate_seconds"] == 15


def _run(mocker, *, quick: bool) -> dict[str, int]:
    seen: dict[str, int] = {}

    def seed(stack, *, subscribers, rate_subscribers):
        seen["subscribers"] = subscribers

    def held(stack, *, seconds):
        seen["rate_seconds"] = seconds
        return {}

    mocker.patch.object(newsletter, "_seed", side_effect=seed)
    mocker.patch.object(newsletter, "_send_now", return_value={"recipients": 1, "seconds": 0})
    mocker.patch.object(newsletter, "_edition_rate", return_value={"per_second": 1.0})
    mocker.patch.object(newsletter, "_plain_rate", return_value=2.0)
    mocker.patch.object(newsletter, "_held_rate", side_effect=held)
    newsletter.run(mocker.Mock(), quick=quick)
    return seen
