"""WordPress eXtended RSS (WXR 1.0 to 1.2): posts become articles, comments comments.

A post's key is its WordPress post ID (as the feed gives it), unless the file was written
by reex's own export, which records the original key as the post meta ``_reex_key``.
"""

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime
from pathlib import Path
from xml.etree.ElementTree import Element

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

Status, Kind = Comment.Status, Comment.Kind
VERSIONS = ("1.0", "1.1", "1.2")
_WP_NAMESPACE = re.compile(r"^http://wordpress\.org/export/1\.[0-2]/$")
_WP_DATE = "%Y-%m-%d %H:%M:%S"
# comment_approved: "1", "0", "spam", "trash"; "post-trashed" when its post was trashed.
_STATUSES = {"1": Status.APPROVED, "approve": Status.APPROVED, "0": Status.PENDING,
             "hold": Status.PENDING, "spam": Status.SPAM, "trash": Status.TRASH,
             "post-trashed": Status.TRASH}  # fmt: skip
# What a trashed comment was before, kept by WordPress as _wp_trash_meta_status.
_BEFORE_TRASH = {"1": Status.APPROVED, "0": Status.PENDING, "spam": Status.SPAM}
_KINDS = {"": Kind.COMMENT, "comment": Kind.COMMENT, "pingback": Kind.PINGBACK,
          "trackback": Kind.TRACKBACK}  # fmt: skip
_ARTICLE_TYPES = ("post", "page")


def wp_date(value: str, tz: tzinfo) -> datetime | None:
    """Return a WordPress "Y-m-d H:i:s" date in ``tz``; None if empty or "0000-00-00"."""
    try:
        return datetime.strptime(value.strip(), _WP_DATE).replace(tzinfo=tz)
    except ValueError:
        return None


def _meta(element: Element, tag: str, wp: str) -> dict[str, str]:
    pairs = ((text_of(m, f"{wp}meta_key"), m.findtext(f"{wp}meta_value") or "") for m in
             element.findall(f"{wp}{tag}"))  # fmt: skip
    return {key: value.strip() for key, value in pairs if key}


class WxrFile:
    """One WXR file, read twice: ``scan`` checks all of it, ``records`` streams it."""

    def __init__(self, path: Path, *, tz: tzinfo) -> None:
        self.path, self.tz = path, tz
        self.wp = ""
        self.channel: dict[str, str] = {}

    def scan(self) -> Scan:
        """Read the whole file; raise ImportFileError unless it is a WXR export to import."""
        if root_tag(self.path) != "rss":
            raise ImportFileError(f"{self.path}: not a WordPress export (no <rss> root)")
        comments = sum(len(item.findall(f"{self.wp}comment")) for item in self._items())
        # Without <wp:wxr_version> (hand-made files) the namespace still names the version.
        version = self.channel.get("wxr_version") or self.wp[-5:-2]
        if not version:
            raise ImportFileError(f"{self.path}: no WordPress export namespace or version")
        if version not in VERSIONS:
            raise ImportFileError(f"{self.path}: WXR version {version!r} is not 1.0 to 1.2")
        site = self.channel.get("base_blog_url") or self.channel.get("base_site_url") or ""
        site = site or self.channel.get("link", "")
        return Scan(source=f"wordpress:{site.rstrip('/')}" if site else "wordpress",
                    comments=comments)  # fmt: skip

    def records(self) -> Iterator[Record]:
        """Yield each item's article then its comments, in file order."""
        for item in self._items():
            yield from self._item_records(item)

    def _items(self) -> Iterator[Element]:
        namespaces: dict[str, str] = {}
        for element in records_at_depth(self.path, depth=3, namespaces=namespaces):
            if not self.wp:
                uri = next((u for u in namespaces.values() if _WP_NAMESPACE.match(u)), "")
                self.wp = f"{{{uri}}}" if uri else ""
            if element.tag == "item":
                yield element
            else:
                self._channel_field(element)

    def _channel_field(self, element: Element) -> None:
        tag = str(element.tag)
        if tag == "link" or (self.wp and tag.startswith(self.wp)):
            name = tag.removeprefix(self.wp)
            if name in ("link", "wxr_version", "base_site_url", "base_blog_url"):
                self.channel.setdefault(name, (element.text or "").strip())

    def _item_records(self, item: Element) -> Iterator[Record]:
        wp = self.wp
        post_id = text_of(item, f"{wp}post_id")
        comments = item.findall(f"{wp}comment")
        if not post_id:
            yield from [Skipped("item without a post id")] * max(1, len(comments))
            return
        published = self._published(item) or self._first_comment_date(comments)
        if not comments and not (
            text_of(item, f"{wp}post_type") in _ARTICLE_TYPES
            and text_of(item, f"{wp}status") == "publish"
        ):
            return  # drafts, attachments, menus...: not articles, nothing to keep
        key = _meta(item, "postmeta", wp).get("_reex_key") or post_id
        yield ArticleRecord(
            ref=post_id,
            key=key,
            title=html.unescape(text_of(item, "title")) or f"Post {post_id}",
            url=text_of(item, "link"),
            published_at=published,
            comments_open=text_of(item, f"{wp}comment_status") != "closed",
        )
        for comment in comments:
            yield self._comment(comment, post_id=post_id, published=published)

    def _published(self, item: Element) -> datetime | None:
        wp = self.wp
        date = wp_date(text_of(item, f"{wp}post_date_gmt"), UTC) or wp_date(
            text_of(item, f"{wp}post_date"), self.tz
        )
        if date is None and text_of(item, "pubDate"):
            try:
                date = parsedate_to_datetime(text_of(item, "pubDate"))
            except (TypeError, ValueError):
                return None
        return date

    def _first_comment_date(self, comments: list[Element]) -> datetime | None:
        """Date a post the file gives no date by its first comment, never by today."""
        dates = [self._comment_date(c) for c in comments]
        return min((d for d in dates if d is not None), default=None)

    def _comment_date(self, element: Element) -> datetime | None:
        wp = self.wp
        return wp_date(text_of(element, f"{wp}comment_date_gmt"), UTC) or wp_date(
            text_of(element, f"{wp}comment_date"), self.tz
        )

    def _comment(self, element: Element, *, post_id: str, published: datetime | None) -> Record:
        wp = self.wp
        comment_id = text_of(element, f"{wp}comment_id")
        kind = _KINDS.get(text_of(element, f"{wp}comment_type").lower())
        if not comment_id:
            return Skipped("comment without an id")
        if kind is None:
            return Skipped(f"comment type {text_of(element, f'{wp}comment_type')!r}")
        status, before = self._status(element)
        created = self._comment_date(element)
        parent = text_of(element, f"{wp}comment_parent")
        return CommentRecord(
            source_id=comment_id,
            article_ref=post_id,
            parent_source_id="" if parent in ("", "0") else parent,
            # WordPress keeps names HTML-escaped (a pingback's is its page title).
            author_name=html.unescape(text_of(element, f"{wp}comment_author")),
            author_email=text_of(element, f"{wp}comment_author_email"),
            author_url=text_of(element, f"{wp}comment_author_url"),
            ip_address=text_of(element, f"{wp}comment_author_IP"),
            body=element.findtext(f"{wp}comment_content") or "",
            created_at=created or published,
            status=status,
            status_before_trash=before,
            kind=kind,
        )

    def _status(self, element: Element) -> tuple[Comment.Status, str]:
        # A missing value is what WordPress inserts by default: approved.
        approved = text_of(element, f"{self.wp}comment_approved") or "1"
        status = _STATUSES.get(approved, Status.PENDING)
        if status != Status.TRASH:
            return status, ""
        previous = _meta(element, "commentmeta", self.wp).get("_wp_trash_meta_status", "")
        return status, _BEFORE_TRASH.get(previous, "")
