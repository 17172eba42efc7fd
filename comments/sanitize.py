"""Turn a comment's raw text into safe HTML: the only module that imports bleach.

One pass: newlines become paragraphs and line breaks, then a reused ``Cleaner`` keeps a
small allowlist of tags, escapes the rest, keeps only http, https and mailto links, and
linkifies bare URLs, giving every link ``rel="nofollow ugc noopener"``. The output holds
no newline and starts with a block tag, so sanitising it again changes nothing.
"""

import re
import threading
from functools import partial

from bleach.linkifier import LinkifyFilter  # type: ignore[import-untyped]
from bleach.sanitizer import Cleaner  # type: ignore[import-untyped]

ALLOWED_TAGS = frozenset(
    {"p", "br", "a", "b", "strong", "i", "em", "code", "pre", "blockquote", "ul", "ol", "li"}
)
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

_BLOCK = r"(?:p|pre|blockquote|ul|ol|li)"
_STARTS_WITH_BLOCK = re.compile(r"<(?:p|pre|blockquote|ul|ol)[\s>/]", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_NEWLINE_BEFORE_BLOCK = re.compile(rf"[ \t]*\n\s*(?=</?{_BLOCK}[\s>])", re.IGNORECASE)
_NEWLINE_AFTER_BLOCK = re.compile(rf"(</?{_BLOCK}>)[ \t]*\n\s*", re.IGNORECASE)
_LINK = re.compile(r"<a\s[^>]*\bhref=", re.IGNORECASE)

_local = threading.local()


def _set_rel(attrs: dict, new: bool = False) -> dict | None:
    """Give every link the rel a comment link needs; unlink all but absolute allowed URLs."""
    href = attrs.get((None, "href"), "")
    scheme, _, _ = href.partition(":")
    if scheme.lower() not in ALLOWED_PROTOCOLS:
        return None
    attrs[(None, "rel")] = LINK_REL
    return attrs


def _cleaner() -> Cleaner:
    # A Cleaner is not thread-safe: one per thread, reused for every comment.
    cleaner = getattr(_local, "cleaner", None)
    if cleaner is None:
        cleaner = Cleaner(
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            protocols=ALLOWED_PROTOCOLS,
            strip=False,
            strip_comments=True,
            filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags=["pre"])],
        )
        _local.cleaner = cleaner
    return cleaner


def _paragraph(chunk: str) -> str:
    chunk = _NEWLINE_BEFORE_BLOCK.sub("", chunk)
    chunk = _NEWLINE_AFTER_BLOCK.sub(r"\1", chunk)
    chunk = chunk.replace("\n", "<br>")
    return chunk if _STARTS_WITH_BLOCK.match(chunk) else f"<p>{chunk}</p>"


def _paragraphs(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    chunks = (chunk.strip() for chunk in _PARAGRAPH_BREAK.split(text))
    return "".join(_paragraph(chunk) for chunk in chunks if chunk)


def sanitize(text: str) -> str:
    """Return safe HTML for a comment's raw text."""
    return _cleaner().clean(_paragraphs(text))


def count_links(html: str) -> int:
    """Return how many links sanitised HTML holds."""
    return len(_LINK.findall(html))
