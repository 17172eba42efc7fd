"""The rivals phase without installing or starting anything: rows, table, configs, parsing."""

import json
from typing import Any

import pytest

from bench import results, rival_servers
from bench.cli import _arguments
from bench.report import render
from bench.rival_servers import (
    Rival,
    RivalUnavailable,
    gunicorn_argv,
    isso_config,
    listed_count,
    parse_xtd_form,
    requirements,
    xtd_settings,
)
from bench.rivals import Pair, Side, failed_row, pair_summary, rival_pairs
from bench.stats import WrkResult
from bench.web import Operation

META = {
    "started": "2026-01-01 00:00 UTC",
    "commit": "abc1234",
    "quick": True,
    "rounds": 3,
    "duration": 2.0,
    "connections": 16,
    "elapsed": 60.0,
    "only": "rivals",
}
POST = Operation(key="comment_post", label="POST", script="post_comment.lua", path="/c/", target="")


def _run(rps: float, p99_ms: float = 20.0, errors: int = 0) -> WrkResult:
    return WrkResult(
        requests=int(rps * 2), duration_s=2.0, p50_ms=5.0, p99_ms=p99_ms, errors=errors
    )


def _pair(reex: list[float], other: list[float]) -> Pair:
    side = Side("http://127.0.0.1:1", POST, 1)
    pair = Pair("xtd_post", "POST comment x xtd", ">= 5x", side, side)
    pair.reex_runs = [_run(rps) for rps in reex]
    pair.other_runs = [_run(rps, p99_ms=80.0, errors=1) for rps in other]
    pair.reex_cpu, pair.other_cpu = [1000.0] * len(reex), [5000.0] * len(other)
    return pair


def test_a_pair_row_gives_both_sides_and_the_median_of_the_per_round_ratios():
    row = pair_summary(_pair(reex=[500, 600, 400], other=[100, 100, 50]))

    assert (row["rps"], row["other_rps"]) == (500, 100)
    assert (row["ratio"], row["ratio_low"], row["ratio_high"]) == (6.0, 5.0, 8.0)
    assert (row["errors"], row["other_errors"], row["rounds"]) == (0, 3, 3)
    assert (row["p99_ms"], row["other_p99_ms"]) == (20.0, 80.0)
    assert row["cpu_ratio"] == 5.0  # the other side spends 5000 us a request, reex 1000
    assert row["target"] == ">= 5x"


def _rivals_report(rows):
    return render({"meta": META, "rivals": rows})


def test_the_rivals_table_shows_req_s_of_both_sides_ratio_and_target():
    row = pair_summary(_pair(reex=[500, 600, 400], other=[100, 100, 50]))
    failed = failed_row("isso_post", "POST comment x Isso", ">= 3x", "n/a (cannot install)")

    lines = _rivals_report([row, failed]).splitlines()

    measured = next(line for line in lines if line.startswith("POST comment x xtd"))
    assert measured.split()[4:] == [
        "500", "100", "20.0", "80.0", "1000/5000", "5.00", "6.00", "(5.00-8.00)", "0/3", ">=", "5x"
    ]  # fmt: skip
    missing = next(line for line in lines if line.startswith("POST comment x Isso"))
    assert missing.split()[4:] == ["n/a", "(cannot", "install)", ">=", "3x"]
    assert "worker" not in _rivals_report([row])  # an --only run has no other table


def test_rival_pairs_label_each_comparison_with_its_issue_target():
    operation = Operation(key="k", label="l", script="get.lua", path="/", target="")
    rival = Rival("Isso", "http://127.0.0.1:2", 7, post=operation, listing=operation)
    reex = {kind: Side("http://127.0.0.1:1", POST, 1) for kind in ("post", "listing")}

    pairs = rival_pairs(rival, reex)

    assert [(p.key, p.label, p.target) for p in pairs] == [
        ("isso_post", "POST comment x Isso", ">= 3x"),
        ("isso_listing", "GET 50 approved x Isso", ">= 5x"),
    ]
    assert all(p.other.master_pid == 7 for p in pairs)


def test_an_only_run_has_a_section_of_its_own_in_the_results_file():
    assert results.command({"mode": "standard", "quick": True, "only": "rivals"}) == (
        "python -m bench --quick --only rivals"
    )
    assert results.command({"mode": "standard", "quick": True, "only": None}) == (
        "python -m bench --quick"
    )


def test_rivals_can_be_left_out_or_measured_alone_but_not_both():
    assert _arguments(["--quick", "--no-rivals"]).no_rivals
    assert _arguments(["--only", "rivals"]).only == "rivals"
    with pytest.raises(SystemExit):
        _arguments(["--only", "rivals", "--no-rivals"])
    with pytest.raises(SystemExit):
        _arguments(["--only", "rivals", "--soak"])


def test_isso_runs_without_moderation_or_rate_limits_on_sqlite(tmp_path):
    config = isso_config(tmp_path / "comments.db", "http://127.0.0.1:8000")

    sections = {
        block.split("\n", 1)[0]: block.split("\n", 1)[1] for block in config.strip().split("\n\n")
    }
    assert sections["[moderation]"].strip() == "enabled = false"
    assert sections["[guard]"].strip() == "enabled = false"
    assert f"dbpath = {tmp_path / 'comments.db'}" in sections["[general]"]


def test_xtd_settings_point_at_the_given_postgres_database_and_skip_email_confirmation():
    text = xtd_settings("postgres://root@127.0.0.1:5433/reex_bench_xtd")
    namespace: dict[str, object] = {}
    exec(compile(text, "settings.py", "exec"), namespace)  # noqa: S102 (text we generated)

    database = namespace["DATABASES"]["default"]  # type: ignore[index]
    assert database["NAME"] == "reex_bench_xtd"
    assert (database["HOST"], database["PORT"], database["USER"]) == ("127.0.0.1", "5433", "root")
    assert namespace["COMMENTS_XTD_CONFIRM_EMAIL"] is False
    assert namespace["DEBUG"] is False


def test_the_rivals_share_reex_s_django_and_gunicorn_versions():
    from importlib.metadata import version

    assert f"django=={version('django')}" in requirements("xtd")
    assert "django-comments-xtd==2.10.13" in requirements("xtd")
    assert requirements("isso") == ["isso==0.14.0", f"gunicorn=={version('gunicorn')}"]


def test_the_rivals_run_under_gunicorn_with_two_sync_workers():
    argv = gunicorn_argv("isso.run", 8123)

    assert argv[0] == str(rival_servers.VENV / "bin" / "gunicorn")
    assert {"--workers=2", "--worker-class=sync", "--bind=127.0.0.1:8123"} <= set(argv)
    assert argv[-1] == "isso.run"


def test_the_xtd_form_values_are_read_from_the_seed_output():
    printed = "Migrating...\nXTD_FORM 1767225600 0a1b2c\n"

    assert parse_xtd_form(printed) == ("1767225600", "0a1b2c")
    with pytest.raises(RivalUnavailable):
        parse_xtd_form("nothing useful\n")


def test_both_rivals_list_shapes_are_counted():
    assert listed_count(json.dumps([{"id": n} for n in range(50)]).encode()) == 50
    assert listed_count(json.dumps({"total_replies": 3, "replies": [{}, {}, {}]}).encode()) == 3
    with pytest.raises(RivalUnavailable):
        listed_count(b'{"detail": "Not found."}')


class _FakeStack:
    def check_running(self):
        pass


def _standard_phases(monkeypatch, argv):
    """Run cli._standard with every phase replaced; return the body and the phases called."""
    from contextlib import contextmanager

    from bench import cli, newsletter

    called = []

    @contextmanager
    def fake_stack(*, work_dir):
        yield _FakeStack()

    def phase(name, value):
        def run(*args, **kwargs):
            called.append(name)
            return value

        return run

    monkeypatch.setattr(cli, "running_bench_stack", fake_stack)
    monkeypatch.setattr(cli, "seed", phase("seed", {}))
    monkeypatch.setattr(cli, "measure_web", phase("web", [{"key": "bare"}]))
    monkeypatch.setattr(cli, "measure_rivals", phase("rivals", [{"key": "xtd_post"}]))
    monkeypatch.setattr(cli, "measure_workers", phase("workers", {}))
    monkeypatch.setattr(newsletter, "run", phase("newsletter", {"status": "ok"}))
    monkeypatch.setattr(cli, "OUT_DIR", __import__("pathlib").Path("/nonexistent-bench-out"))
    body = cli._standard(_arguments(argv), clock=0.0)
    return body, called


def test_the_standard_run_measures_the_rivals_after_the_web_rows(monkeypatch):
    body, called = _standard_phases(monkeypatch, ["--quick"])

    assert called == ["web", "rivals", "workers", "newsletter"]
    assert body["rivals"] == [{"key": "xtd_post"}]


def test_no_rivals_leaves_the_phase_out_and_only_rivals_runs_it_alone(monkeypatch):
    body, called = _standard_phases(monkeypatch, ["--quick", "--no-rivals"])
    assert "rivals" not in called
    assert "rivals" not in body

    body, called = _standard_phases(monkeypatch, ["--quick", "--only", "rivals"])
    assert called == ["seed", "rivals"]
    assert set(body) == {"rivals"}


def test_a_rival_that_cannot_install_becomes_rows_saying_why(monkeypatch, tmp_path):
    import subprocess

    from bench import rivals
    from bench.web import Load

    def pip_fails(argv, **kwargs):
        return subprocess.CompletedProcess(
            argv, 1, stdout="", stderr="ERROR: No matching distribution found for isso==0.14.0"
        )

    def never_started(stack):
        raise AssertionError("a rival that did not install must not be started")

    monkeypatch.setattr(rival_servers, "VENV", tmp_path / "venv")
    monkeypatch.setattr(rival_servers.subprocess, "run", pip_fails)
    reex = {kind: Side("http://127.0.0.1:1", POST, 1) for kind in ("post", "listing")}

    no_stack: Any = None  # never reached: the install fails first
    rows = rivals._against(
        no_stack, "Isso", never_started, reex, load=Load(duration=1, connections=1), rounds=1
    )

    assert [row["operation"] for row in rows] == ["POST comment x Isso", "GET 50 approved x Isso"]
    assert all(
        row["status"].startswith("n/a (RivalUnavailable: cannot install isso") for row in rows
    )
    assert all("No matching distribution" in row["status"] for row in rows)
    assert not list(tmp_path.glob("venv/.installed-*"))


def test_only_metrics_runs_the_rivals_phase_alone(monkeypatch):
    body, called = _standard_phases(monkeypatch, ["--quick", "--only", "metrics"])

    assert called == ["seed", "rivals"]
    assert set(body) == {"rivals"}


def test_metrics_are_measured_on_fresh_servers_against_off_and_against_the_same_again(
    monkeypatch,
):
    from contextlib import contextmanager

    from bench import rivals
    from bench.web import Load

    started: dict[str, str] = {}
    measured: list[list[tuple[str, str]]] = []

    @contextmanager
    def servers(stack, post, settings):
        started.update(settings)
        yield [Side(f"http://{name}", post, n) for n, name in enumerate(settings)]

    def rounds(pairs, *, load, rounds):
        measured.append([(pair.reex.base_url, pair.other.base_url) for pair in pairs])
        for pair in pairs:
            pair.reex_runs, pair.other_runs = [_run(100.0)], [_run(100.0)]
            pair.reex_cpu, pair.other_cpu = [1000.0], [1000.0]

    monkeypatch.setattr(rivals, "_fresh_servers", servers)
    monkeypatch.setattr(rivals, "paired_rounds", rounds)
    no_stack: Any = None
    rows = rivals.metrics_rows(no_stack, POST, load=Load(duration=1, connections=1), rounds=1)

    assert started == {"web-metrics-on": "1", "web-metrics-off": "0", "web-metrics-on-again": "1"}
    assert measured == [
        [
            ("http://web-metrics-on", "http://web-metrics-off"),
            ("http://web-metrics-on", "http://web-metrics-on-again"),
        ]
    ]
    assert [row["key"] for row in rows] == ["metrics_cost", "metrics_aa"]
    assert all(row["status"] == "ok" for row in rows)


def test_metrics_servers_that_cannot_start_become_rows_saying_why():
    from bench import rivals
    from bench.web import Load

    class NoPorts:
        def start_web(self, **settings):
            raise OSError("no free port")

    no_stack: Any = NoPorts()
    rows = rivals.metrics_rows(no_stack, POST, load=Load(duration=1, connections=1), rounds=1)

    assert [row["key"] for row in rows] == ["metrics_cost", "metrics_aa"]
    assert all("OSError: no free port" in row["status"] for row in rows)
