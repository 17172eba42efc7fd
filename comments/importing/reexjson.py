"""reex's own JSON export (export_comments --format json), read back by import_json."""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from comments.exporting import JSON_FORMAT
from comments.importing.records import (
    ArticleRecord,
    CommentRecord,
    ImportFileError,
    Record,
    Scan,
    Skipped,
    json_document_read,
)
from comments.models import Comment


def _date(value: object) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _text(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    return value if isinstance(value, str) else ""


class ReexJsonFile:
    """One file of reex's JSON export. It is a single document, read whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.articles: list[dict[str, Any]] = []

    def scan(self) -> Scan:
        document = json_document_read(self.path)
        if not isinstance(document, dict) or document.get("format") != JSON_FORMAT:
            raise ImportFileError(f"{self.path}: not a reex comments export")
        articles = document.get("articles")
        if not isinstance(articles, list) or not all(
            isinstance(a, dict) and isinstance(a.get("comments"), list) for a in articles
        ):
            raise ImportFileError(f"{self.path}: 'articles' must be a list of articles")
        self.articles = articles
        site = _text(document, "site").rstrip("/")
        return Scan(
            source=f"reex:{site}" if site else "reex",
            comments=sum(len(a["comments"]) for a in articles),
        )

    def records(self) -> Iterator[Record]:
        for article in self.articles:
            key = _text(article, "key")
            yield ArticleRecord(
                ref=key,
                key=key,
                title=_text(article, "title"),
                url=_text(article, "url"),
                published_at=_date(article.get("published_at")),
                comments_open=article.get("comments_open") is not False,
            )
            for row in article["comments"]:
                yield (
                    _comment(row, article_ref=key)
                    if isinstance(row, dict)
                    else Skipped("comment that is not an object")
                )


def _comment(row: dict[str, Any], *, article_ref: str) -> Record:
    status, kind = row.get("status"), row.get("kind", Comment.Kind.COMMENT)
    if not row.get("id"):
        return Skipped("comment without an id")
    if status not in Comment.Status.values or kind not in Comment.Kind.values:
        return Skipped("unknown status or kind")
    before = _text(row, "status_before_trash")
    parent = row.get("parent")
    return CommentRecord(
        source_id=str(row.get("id") or ""),
        article_ref=article_ref,
        parent_source_id=str(parent) if parent else "",
        author_name=_text(row, "author_name"),
        author_email=_text(row, "author_email"),
        author_url=_text(row, "author_url"),
        ip_address=_text(row, "ip_address"),
        user_agent=_text(row, "user_agent"),
        body=_text(row, "body"),
        created_at=_date(row.get("created_at")),
        status=Comment.Status(status),
        status_before_trash=before if before in Comment.Status.values else "",
        kind=Comment.Kind(kind),
    )
