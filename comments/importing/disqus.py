"""Disqus XML exports: threads become articles (found by URL, else keyed from the link),
posts become comments (isSpam: spam, isDeleted: trash, parents kept).

Threads are read in a first pass, so posts may come before or after them; only threads
that have posts become articles (Disqus makes a thread for every page ever loaded).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import Element

from comments.importing.keys import article_key
from comments.importing.records import (
    ArticleRecord,
    CommentRecord,
    ImportFileError,
    Record,
    Scan,
    Skipped,
)
from comments.importing.xmlstream import records_at_depth, root_tag, text_of
from comments.models import Comment

Status = Comment.Status
NS = "{http://disqus.com}"
DSQ_ID = "{http://disqus.com/disqus-internals}id"


@dataclass(frozen=True)
class Thread:
    link: str
    title: str
    identifier: str
    created_at: datetime | None
    closed: bool


def disqus_date(value: str) -> datetime | None:
    """Return a Disqus createdAt ("2013-10-10T19:20:29Z") as an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _true(element: Element, tag: str) -> bool:
    return text_of(element, f"{NS}{tag}").lower() == "true"


class DisqusFile:
    """One Disqus export, read twice: ``scan`` checks it and learns the threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.threads: dict[str, Thread] = {}
        self.used: set[str] = set()

    def scan(self) -> Scan:
        if root_tag(self.path) != f"{NS}disqus":
            raise ImportFileError(f"{self.path}: not a Disqus export (no <disqus> root)")
        forum, posts = "", 0
        for element in records_at_depth(self.path, depth=2):
            if element.tag == f"{NS}thread":
                self._thread(element)
                forum = forum or text_of(element, f"{NS}forum")
            elif element.tag == f"{NS}post":
                posts += 1
                thread = element.find(f"{NS}thread")
                self.used.add(thread.get(DSQ_ID, "") if thread is not None else "")
        return Scan(source=f"disqus:{forum}" if forum else "disqus", comments=posts)

    def _thread(self, element: Element) -> None:
        self.threads[element.get(DSQ_ID, "")] = Thread(
            link=text_of(element, f"{NS}link"),
            title=text_of(element, f"{NS}title"),
            identifier=text_of(element, f"{NS}id"),
            created_at=disqus_date(text_of(element, f"{NS}createdAt")),
            closed=_true(element, "isClosed"),
        )

    def records(self) -> Iterator[Record]:
        for thread_id in sorted(self.used & self.threads.keys()):
            thread = self.threads[thread_id]
            if thread.link:
                yield ArticleRecord(
                    ref=thread_id,
                    key=article_key(link=thread.link, identifier=thread.identifier),
                    title=thread.title or thread.link,
                    url=thread.link,
                    published_at=thread.created_at,
                    comments_open=not thread.closed,
                )
        for element in records_at_depth(self.path, depth=2):
            if element.tag == f"{NS}post":
                yield self._post(element)

    def _post(self, element: Element) -> Record:
        post_id = element.get(DSQ_ID, "")
        thread_ref = element.find(f"{NS}thread")
        thread = self.threads.get(thread_ref.get(DSQ_ID, "") if thread_ref is not None else "")
        if not post_id:
            return Skipped("post without an id")
        if thread is None or not thread.link:
            return Skipped("post of a thread the file does not describe (or without a link)")
        author = element.find(f"{NS}author")
        author = author if author is not None else Element("author")
        parent = element.find(f"{NS}parent")
        status, before = _status(element)
        return CommentRecord(
            source_id=post_id,
            article_ref=thread_ref.get(DSQ_ID, "") if thread_ref is not None else "",
            parent_source_id=parent.get(DSQ_ID, "") if parent is not None else "",
            author_name=text_of(author, f"{NS}name") or text_of(author, f"{NS}username"),
            author_email=text_of(author, f"{NS}email"),
            ip_address=text_of(element, f"{NS}ipAddress"),
            body=element.findtext(f"{NS}message") or "",
            created_at=disqus_date(text_of(element, f"{NS}createdAt")),
            status=status,
            status_before_trash=before,
        )


def _status(element: Element) -> tuple[Comment.Status, str]:
    spam = _true(element, "isSpam")
    # Newer exports say isApproved; a post not approved is held, as in Disqus.
    held = text_of(element, f"{NS}isApproved").lower() == "false"
    status = Status.SPAM if spam else Status.PENDING if held else Status.APPROVED
    if _true(element, "isDeleted"):
        return Status.TRASH, status
    return status, ""
