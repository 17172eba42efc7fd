"""Isso's generic JSON (what ``isso import`` reads, and what Isso users convert to):
a list of threads ``{"id": "/path/", "title", "comments": [{"id", "author", "email",
"website", "remote_addr", "created", "text"}]}``. Threads are paths on the site; comments
are published, dated in the site's local time, and may name a ``parent`` in their thread.
"""

from collections.abc import Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urljoin

from comments.importing.keys import article_key
from comments.importing.records import (
    ArticleRecord,
    CommentRecord,
    ImportFileError,
    Record,
    Scan,
    Skipped,
    json_document_read,
)
from comments.importing.wxr import wp_date
from comments.models import Comment


def _text(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    return str(value) if isinstance(value, str | int) else ""


def _valid(document: object) -> bool:
    return isinstance(document, list) and all(
        isinstance(t, dict) and isinstance(t.get("id"), str) and isinstance(t.get("comments"), list)
        for t in document
    )


class IssoJsonFile:
    """One file of Isso's generic JSON, read whole; ``site`` is what its paths are under."""

    def __init__(self, path: Path, *, site: str, tz: tzinfo) -> None:
        self.path, self.site, self.tz = path, site.rstrip("/") + "/", tz
        self.threads: list[dict[str, Any]] = []

    def scan(self) -> Scan:
        document = json_document_read(self.path)
        if not _valid(document):
            raise ImportFileError(
                f"{self.path}: not Isso's JSON (a list of threads with an id and comments)"
            )
        self.threads = document
        comments = sum(len(t["comments"]) for t in document)
        return Scan(source=f"isso:{self.site.rstrip('/')}", comments=comments)

    def records(self) -> Iterator[Record]:
        for thread in self.threads:
            path = thread["id"]
            rows = [row for row in thread["comments"] if isinstance(row, dict)]
            dates = [d for d in (self._date(row) for row in rows) if d is not None]
            link = urljoin(self.site, path.lstrip("/"))
            yield ArticleRecord(
                ref=path,
                key=article_key(link=link, identifier=""),
                title=unquote_plus(_text(thread, "title")) or link,
                url=link,
                published_at=min(dates, default=None),
            )
            yield from (self._comment(row, path) for row in rows)
            yield from [Skipped("comment that is not an object")] * (
                len(thread["comments"]) - len(rows)
            )

    def _date(self, row: dict[str, Any]) -> datetime | None:
        return wp_date(_text(row, "created"), self.tz)

    def _comment(self, row: dict[str, Any], path: str) -> Record:
        if _text(row, "id") == "":
            return Skipped("comment without an id")
        parent = _text(row, "parent")
        return CommentRecord(
            # Isso numbers comments per thread.
            source_id=f"{path}#{_text(row, 'id')}",
            article_ref=path,
            parent_source_id=f"{path}#{parent}" if parent else "",
            author_name=_text(row, "author"),
            author_email=_text(row, "email"),
            author_url=_text(row, "website"),
            ip_address=_text(row, "remote_addr"),
            body=_text(row, "text"),
            created_at=self._date(row),
            status=Comment.Status.APPROVED,
        )
