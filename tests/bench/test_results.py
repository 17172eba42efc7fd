"""The results file: each run replaces its own mode's section and keeps the rest."""

from bench import results

META = {"started": "2026-01-01 00:00 UTC", "commit": "abc1234", "mode": "standard", "quick": True}


def test_a_first_run_creates_the_file_with_its_section(tmp_path):
    path = tmp_path / "docs" / "benchmark-results.md"

    results.write(path, META, "operation  req/s\nbare  900\n")

    text = path.read_text()
    assert text.startswith(results.TITLE + "\n")
    assert "## `python -m bench --quick`" in text
    assert "Run 2026-01-01 00:00 UTC at commit `abc1234` (mode: standard, quick)." in text
    assert "```text\noperation  req/s\nbare  900\n```" in text


def test_each_mode_is_named_by_its_command():
    commands = [
        results.command({"mode": mode, "quick": quick})
        for mode, quick in (
            ("standard", False),
            ("standard", True),
            ("scale", False),
            ("soak", False),
        )
    ]
    assert commands == [
        "python -m bench",
        "python -m bench --quick",
        "python -m bench --scale",
        "python -m bench --soak",
    ]


def test_a_run_replaces_its_own_section_and_keeps_the_others(tmp_path):
    path = tmp_path / "benchmark-results.md"
    path.write_text(
        "# Benchmark results\n\nSeeded by hand.\n\n"
        "## `python -m bench --quick`\n\nold quick table\n\n"
        "## `python -m bench --scale`\n\n### Where the time goes\n\nscale notes\n"
    )

    results.write(path, {**META, "commit": "def5678"}, "new quick table")

    text = path.read_text()
    assert "old quick table" not in text
    assert "new quick table" in text and "`def5678`" in text
    assert text.index("new quick table") < text.index("## `python -m bench --scale`")
    assert "Seeded by hand." in text and "### Where the time goes\n\nscale notes" in text


def test_a_mode_without_a_section_is_added_at_the_end(tmp_path):
    path = tmp_path / "benchmark-results.md"
    path.write_text("# Benchmark results\n\n## `python -m bench --quick`\n\nquick table\n")

    results.write(path, {**META, "mode": "soak", "quick": False}, "soak table")

    text = path.read_text()
    assert "quick table" in text
    assert text.rstrip().endswith("soak table\n```")
    assert text.count("## `python -m bench --soak`") == 1
