"""Running one import: check the whole file, then write it in one transaction, in chunks.

A parser has ``scan()`` (reads all of the file, raises ImportFileError, returns a Scan)
and ``records()`` (streams ArticleRecord, CommentRecord and Skipped in file order, each
article before its comments). Nothing is written unless the whole file reads; a dry run
does all the work and rolls it back, so its report is exactly what the import would do.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from django.core.exceptions import ValidationError
from django.db import transaction

from comments.importing.records import ArticleRecord, CommentRecord, Record, Scan, Skipped
from comments.services import (
    ArticleRef,
    ThreadLinks,
    article_import,
    comments_import,
    comments_import_link_threads,
)

CHUNK = 500


class ExportFile(Protocol):
    def scan(self) -> Scan: ...

    def records(self) -> Iterator[Record]: ...


@dataclass
class ImportSummary:
    source: str = ""
    articles: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    fixed: Counter[str] = field(default_factory=Counter)
    threads: ThreadLinks | None = None
    dry_run: bool = False

    @property
    def imported(self) -> int:
        return sum(self.statuses.values())


class _Rollback(Exception):
    """Raised inside the transaction to undo a dry run."""


class ImportRun:
    """Import one file; ``progress(n)`` is called as comments are handled."""

    def __init__(
        self,
        export: ExportFile,
        *,
        update_articles: bool,
        dry_run: bool = False,
        progress: Callable[[int], object] = lambda n: None,
    ) -> None:
        self.export, self.update_articles = export, update_articles
        self.progress = progress
        self.summary = ImportSummary(dry_run=dry_run)
        self.articles: dict[str, ArticleRef] = {}
        self.pending: list[CommentRecord] = []

    def scan(self) -> Scan:
        """Read the whole file once; raise ImportFileError if it cannot be imported."""
        scan = self.export.scan()
        self.summary.source = scan.source
        return scan

    def run(self) -> ImportSummary:
        """Write the scanned file in one transaction (rolled back for a dry run)."""
        try:
            with transaction.atomic():
                self._write()
                if self.summary.dry_run:
                    raise _Rollback
        except _Rollback:
            pass
        return self.summary

    def _write(self) -> None:
        for record in self.export.records():
            if isinstance(record, ArticleRecord):
                self._article(record)
            elif isinstance(record, CommentRecord):
                self.pending.append(record)
                if len(self.pending) >= CHUNK:
                    self._flush()
            else:
                self._skip(record)
        self._flush()
        self.summary.threads = comments_import_link_threads(source=self.summary.source)

    def _article(self, record: ArticleRecord) -> None:
        self._flush()  # comments before it may name an article of the same ref
        try:
            ref, outcome = article_import(record=record, update=self.update_articles)
        except ValidationError:
            self.articles.pop(record.ref, None)
            self.summary.articles["skipped (invalid key)"] += 1
            return
        self.articles[record.ref] = ref
        self.summary.articles[outcome] += 1

    def _skip(self, record: Skipped) -> None:
        self.summary.skipped[record.reason] += 1
        self.progress(1)

    def _flush(self) -> None:
        if not self.pending:
            return
        batch = comments_import(
            source=self.summary.source, records=self.pending, articles=self.articles
        )
        self.summary.statuses.update(c.status for c in batch.created)
        self.summary.kinds.update(c.kind for c in batch.created)
        self.summary.skipped.update(batch.skipped)
        self.summary.fixed.update(batch.fixed)
        self.progress(len(self.pending))
        self.pending = []


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {what}" for what, n in sorted(counter.items())) or "none"


def summary_lines(summary: ImportSummary) -> list[str]:
    """Return the report of an import (or of what a dry run would have imported)."""
    kinds = {k: n for k, n in summary.kinds.items() if k != "comment"}
    lines = [
        f"Source: {summary.source}",
        f"Articles: {_counts(summary.articles)}",
        f"Comments imported: {summary.imported} ({_counts(summary.statuses)})"
        + (f"; of which {_counts(Counter(kinds))}" if kinds else ""),
        f"Skipped: {sum(summary.skipped.values())} ({_counts(summary.skipped)})",
    ]
    if summary.fixed:
        lines.append(f"Kept without: {_counts(summary.fixed)}")
    if summary.threads is not None:
        t = summary.threads
        lines.append(
            f"Threads: {t.linked} replies linked to their parent, {t.parent_missing} whose "
            f"parent is not in the database shown as top comments, {t.cycles} loops broken"
        )
    if summary.dry_run:
        lines.append("Dry run: nothing was written.")
    return lines
