"""What a parser hands the writer: plain records, one article or one comment each."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from comments.models import Comment


class ImportFileError(Exception):
    """The file cannot be imported at all (malformed, truncated, not this format)."""


@dataclass(frozen=True)
class ArticleRecord:
    """An article as the file describes it; ``ref`` is how the file's comments name it."""

    ref: str
    key: str
    title: str
    url: str = ""
    published_at: datetime | None = None
    comments_open: bool = True


@dataclass
class CommentRecord:
    """A comment as the file describes it, already mapped to reex's statuses and kinds."""

    source_id: str
    article_ref: str
    author_name: str
    author_email: str
    body: str
    created_at: datetime | None
    status: Comment.Status
    parent_source_id: str = ""
    author_url: str = ""
    ip_address: str = ""
    status_before_trash: str = ""
    kind: Comment.Kind = Comment.Kind.COMMENT
    user_agent: str = ""


@dataclass(frozen=True)
class Skipped:
    """Something in the file that is not imported, and why."""

    reason: str


Record = ArticleRecord | CommentRecord | Skipped


@dataclass
class Scan:
    """What a first pass over a file found: the source name and how many comments."""

    source: str
    comments: int = 0
    extra: dict = field(default_factory=dict)


def json_document_read(path: Path) -> Any:
    """Return the JSON document in ``path``; ImportFileError if unreadable or not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ImportFileError(f"Cannot read {path}: {error}") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ImportFileError(f"{path}: not valid JSON (truncated?): {error}") from error
