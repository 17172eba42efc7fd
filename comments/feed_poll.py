"""Reading an RSS 2.0 or Atom feed into articles' fields (feedparser, nothing written).

The rules, for a WordPress site's ``/feed/`` first: the key is the post ID where the guid
says ``?p=N`` (it survives permalink changes, and a template knows it as the post ID),
otherwise a slug of the link's path. Summaries are the excerpt as plain text without
WordPress's continuation links and "The post ... appeared first on ..." footer.
"""

import hashlib
import html
import re
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax import SAXParseException

import feedparser
from django.utils.text import slugify

from comments.models import Article

# Feed excerpts are cut to this many characters, at a word, to stay "a few sentences".
SUMMARY_LENGTH = 500
KEY_LENGTH = Article._meta.get_field("key").max_length or 200
URL_LENGTH = 500
# Not well-formed, yet whole: feedparser's lenient parser reads these correctly.
_TOLERATED_XML_ERRORS = ("undefined entity",)
_BLOCK_TAGS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
               "blockquote", "figure", "figcaption", "tr", "td", "th", "pre", "hr"}  # fmt: skip
_SKIPPED_TAGS = {"script", "style", "noscript", "template"}
_READ_MORE = re.compile(
    r"^\s*(read\s+more|continue\s+reading|keep\s+reading)\b.*$"
    r"|^\s*(more|\[\s*(…|\.\.\.)\s*\])\s*(…|\.\.\.|»|→)?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_EMAIL_AND_NAME = re.compile(r"^\S+@\S+\s*\((.+)\)$")
# The footer Yoast SEO (and others) append to every item of a WordPress feed.
_APPEARED_FIRST = re.compile(r"\s*The post\s.+?\sappeared first on\s.+?\.\s*$", re.DOTALL)
_CONTINUATION_TAIL = re.compile(
    r"\s*(\[\s*(…|\.\.\.|&hellip;)\s*\]|(read\s+more|continue\s+reading)\s*(…|\.\.\.|»|→)?)\s*$",
    re.IGNORECASE,
)


_SENTENCE_END = '.!?"\u201d\u2019)\u00bb'  # and closing quotes, guillemet
_TRAILING = " .,;:-\u2013\u2014\u2026"  # and dashes, ellipsis


class FeedMalformed(Exception):
    """The document is not a feed, or not one that can be read whole."""


class FeedItemInvalid(Exception):
    """One item cannot become an article (no usable key, no title)."""


@dataclass(frozen=True)
class FeedItem:
    """An article as the feed tells it. None: the feed does not carry that field."""

    key: str
    title: str
    url: str
    summary: str | None = None
    author: str | None = None
    image_url: str | None = None
    published_at: datetime | None = None


@dataclass
class ParsedFeed:
    items: list[FeedItem] = field(default_factory=list)
    # One line per item left out, with the item's guid or link and why.
    problems: list[str] = field(default_factory=list)


class _TextExtractor(HTMLParser):
    """Collect an HTML fragment's text; leave out scripts and "Read more" links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.link: list[str] | None = None
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        elif tag == "a":
            classes = dict(attrs).get("class") or ""
            self.link = None if "more-link" in classes else []
            self.skipping += "more-link" in classes
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "a":
            self._close_link()
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def _close_link(self) -> None:
        if self.link is None:  # a "more-link": everything in it was skipped
            self.skipping = max(0, self.skipping - 1)
            self.link = []
        text = "".join(self.link)
        self.link = None
        if not _READ_MORE.match(text):
            self.parts.append(text)

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        (self.link if self.link is not None else self.parts).append(data)


def text_from_html(fragment: str) -> str:
    """Return the fragment's text, whitespace collapsed, without continuation links."""
    extractor = _TextExtractor()
    extractor.feed(fragment)
    extractor.close()
    if extractor.link:
        extractor.parts.append("".join(extractor.link))
    return _clean_line("".join(extractor.parts))


def _clean_line(text: str) -> str:
    """Collapse whitespace and drop control characters (a model validator refuses them)."""
    text = "".join(" " if unicodedata.category(char) in ("Cc", "Cs") else char for char in text)
    return " ".join(text.split())


def summary_from_html(fragment: str) -> str:
    """Return an excerpt as plain text: no footers, at most SUMMARY_LENGTH characters."""
    text = _APPEARED_FIRST.sub("", text_from_html(fragment))
    cut = _CONTINUATION_TAIL.search(text)
    if cut:
        text = text[: cut.start()].rstrip()
        # A cut sentence ("... the price […]") keeps a mark that it goes on.
        if text and text[-1] not in _SENTENCE_END:
            text = text.rstrip(_TRAILING) + "…"
    return _shorten(text, SUMMARY_LENGTH)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head[limit // 2 :]:
        head = head[: head.rindex(" ")]
    return head.rstrip(_TRAILING) + "…"


def _title(entry: Any) -> str:
    detail = entry.get("title_detail") or {}
    title = entry.get("title") or ""
    if "html" in (detail.get("type") or "text/html"):
        title = text_from_html(title)
        # WordPress double-encodes some titles (``&amp;#8217;``): decode until stable.
        for _ in range(2):
            title = html.unescape(title)
    return _shorten(_clean_line(title), Article._meta.get_field("title").max_length or 300)


def _http_url(value: str | None) -> str:
    value = (value or "").strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > URL_LENGTH:
        return ""
    return value


def _post_id(address: str) -> str:
    """Return N from a WordPress ``...?p=N`` address, or ""."""
    values = parse_qs(urlsplit(address.strip()).query).get("p", [])
    return values[0] if len(values) == 1 and values[0].isdigit() else ""


def _path_slug(link: str) -> str:
    slug = slugify(unquote(urlsplit(link).path).replace("/", " ").strip())
    if len(slug) > KEY_LENGTH:  # keep long paths apart: a digest of the whole
        digest = hashlib.sha256(slug.encode()).hexdigest()[:12]
        slug = slug[: KEY_LENGTH - 13].rstrip("-") + "-" + digest
    return slug


def article_key(*, guid: str, link: str) -> str:
    """Return the article key for an item: the ``?p=N`` post ID, else a slug of the path."""
    return _post_id(guid) or _post_id(link) or _path_slug(link)


def _published(entry: Any) -> datetime | None:
    parsed: time.struct_time | None = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed is None:
        return None
    # feedparser has already converted the date to UTC.
    return datetime(*parsed[:6], tzinfo=UTC)


def _image_candidates(entry: Any) -> Iterator[str]:
    for media in entry.get("media_content") or []:
        medium, kind = media.get("medium", ""), media.get("type", "")
        if medium == "image" or kind.startswith("image/") or (not medium and not kind):
            yield media.get("url", "")
    for thumbnail in entry.get("media_thumbnail") or []:
        yield thumbnail.get("url", "")
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and (link.get("type") or "").startswith("image/"):
            yield link.get("href", "")


def _image_url(entry: Any) -> str | None:
    return next(filter(None, map(_http_url, _image_candidates(entry))), None)


def _summary(entry: Any) -> str | None:
    """Return the excerpt (RSS description, Atom summary), else the start of the content."""
    fragment = entry.get("summary") or ""
    if not fragment.strip() and entry.get("content"):
        fragment = entry["content"][0].get("value") or ""
    return summary_from_html(fragment) if fragment.strip() else None


def _author(entry: Any) -> str | None:
    author = _clean_line(entry.get("author") or "")
    # RSS <author> is "email (Name)"; a byline is the name, never the address.
    named = _EMAIL_AND_NAME.match(author)
    author = named.group(1).strip() if named else author
    if not author or re.fullmatch(r"\S+@\S+", author):
        return None
    return author[: Article._meta.get_field("author").max_length]


def feed_item(entry: Any) -> FeedItem:
    """Map one feedparser entry to an article's fields; raise FeedItemInvalid."""
    link = _http_url(entry.get("link"))
    key = article_key(guid=entry.get("id") or "", link=link)
    if not key:
        raise FeedItemInvalid("no ?p=N guid and no link to take a key from")
    title = _title(entry)
    if not title:
        raise FeedItemInvalid(f"item {key} has no title")
    return FeedItem(
        key=key,
        title=title,
        url=link,
        summary=_summary(entry),
        author=_author(entry),
        image_url=_image_url(entry),
        published_at=_published(entry),
    )


def _document(content: bytes, *, content_type: str, base_url: str) -> Any:
    """Parse the bytes; raise FeedMalformed unless they are a feed readable whole."""
    # Blank lines before the XML declaration (a theme's or plugin's stray output) are
    # the most common fault of WordPress feeds, and harmless once stripped.
    headers = {"content-type": content_type} if content_type else {}
    if base_url:  # relative links are resolved against the feed's own address
        headers["content-location"] = base_url
    parsed = feedparser.parse(content.lstrip(), response_headers=headers, sanitize_html=False)
    error = parsed.get("bozo_exception")
    if not parsed.get("version"):
        raise FeedMalformed(f"not an RSS or Atom feed ({error or 'no feed element'})")
    if isinstance(error, SAXParseException) and error.getMessage() not in _TOLERATED_XML_ERRORS:
        raise FeedMalformed(f"not well-formed XML: {error}")
    return parsed


def feed_parse(content: bytes, *, content_type: str = "", base_url: str = "") -> ParsedFeed:
    """Return the feed's items as articles' fields; the first of two with one key wins.

    ``base_url`` is where the feed was read from (after redirects).
    """
    result, seen = ParsedFeed(), set()
    document = _document(content, content_type=content_type, base_url=base_url)
    for entry in document.entries:
        where = entry.get("id") or entry.get("link") or entry.get("title") or "an item"
        try:
            item = feed_item(entry)
        except FeedItemInvalid as error:
            result.problems.append(f"{where}: {error}")
            continue
        if item.key in seen:
            result.problems.append(f"{where}: key {item.key} repeats an earlier item")
            continue
        seen.add(item.key)
        result.items.append(item)
    return result
