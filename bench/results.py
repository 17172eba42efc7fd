"""``docs/benchmark-results.md``: the last run of each benchmark mode, for readers.

Each mode has a section of its own, headed by its command; a run replaces its mode's
section and keeps everything else in the file as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TITLE = "# Benchmark results"
PREAMBLE = (
    "Written by `python -m bench` (`make bench`): each mode's last run replaces that\n"
    "mode's section; the rest of this file is kept.\n"
)


def command(meta: dict[str, Any]) -> str:
    """Return the command line that produced a run with this ``meta``."""
    mode = meta.get("mode", "standard")
    parts = ["python -m bench"]
    if mode != "standard":
        parts.append(f"--{mode}")
    if meta.get("quick"):
        parts.append("--quick")
    if meta.get("only"):
        parts.append(f"--only {meta['only']}")
    return " ".join(parts)


def section(meta: dict[str, Any], table: str) -> str:
    """Return the section for one run: its heading, date, commit, mode and table."""
    return (
        f"## `{command(meta)}`\n\n"
        f"Run {meta['started']} at commit `{meta['commit']}` (mode: {_mode(meta)}).\n\n"
        f"```text\n{table.rstrip()}\n```\n"
    )


def _mode(meta: dict[str, Any]) -> str:
    mode = str(meta.get("mode", "standard"))
    return f"{mode}, quick" if meta.get("quick") else mode


def replace_section(document: str, new: str) -> str:
    """Return ``document`` with the section headed like ``new`` replaced (or added last)."""
    head, sections = _split(document or f"{TITLE}\n\n{PREAMBLE}")
    replaced = [new if _heading(text) == _heading(new) else text for text in sections]
    if new not in replaced:
        replaced.append(new)
    return _join(head, replaced)


def _heading(section: str) -> str:
    return section.split("\n", 1)[0].strip()


def _split(document: str) -> tuple[str, list[str]]:
    """Split at each level-two heading: the text before the first one, then each section."""
    chunks = ("\n" + document).split("\n## ")
    return chunks[0].lstrip("\n"), ["## " + chunk for chunk in chunks[1:]]


def _join(head: str, sections: list[str]) -> str:
    parts = [head.rstrip("\n"), *(text.rstrip("\n") for text in sections)]
    return "\n\n".join(part for part in parts if part) + "\n"


def write(path: Path, meta: dict[str, Any], table: str) -> None:
    """Put this run's section into the results file at ``path`` (created if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(replace_section(document, section(meta, table)), encoding="utf-8")
