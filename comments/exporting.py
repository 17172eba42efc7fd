"""Writing the site's comments out, every status, thread and kind: WXR (WordPress and
import_wxr read it back) or reex's JSON (import_json reads it back). Streamed: one
article's comments in memory at a time."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from itertools import groupby
from operator import attrgetter
from typing import Any, TextIO
from xml.sax.saxutils import escape

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from comments.models import Article, Comment

Status = Comment.Status
JSON_FORMAT = "reex-comments"
_WXR_STATUS = {Status.APPROVED: "1", Status.PENDING: "0", Status.SPAM: "spam",
               Status.TRASH: "trash"}  # fmt: skip
# Keys that are not WordPress post IDs get an ID clear of any real one.
_POST_ID_OFFSET = 1_000_000_000


def export_articles(*, article_key: str | None = None) -> QuerySet[Article]:
    """Return the articles to export: all, or the one with this key."""
    articles = Article.objects.order_by("pk")
    return articles.filter(key=article_key) if article_key else articles


def export_threads(articles: QuerySet[Article]) -> Iterator[tuple[Article, list[Comment]]]:
    """Yield each article with all its comments, oldest first, in two streamed queries."""
    comments = (
        Comment.objects.filter(article__in=articles.values("pk"))
        .order_by("article_id", "created_at", "id")
        .iterator(chunk_size=2000)
    )
    groups = groupby(comments, key=attrgetter("article_id"))
    current = next(groups, None)
    for article in articles.iterator(chunk_size=500):
        while current is not None and current[0] < article.pk:
            current = next(groups, None)  # an article created since the first query
        mine: list[Comment] = []
        if current is not None and current[0] == article.pk:
            mine, current = list(current[1]), next(groups, None)
        yield article, mine


# --- WXR -------------------------------------------------------------------------------


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _wp_dates(value: datetime) -> tuple[str, str]:
    """Return WordPress's local and GMT "Y-m-d H:i:s" forms of a date."""
    local = timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    return local, value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _tag(name: str, value: str | int, *, cdata: bool = True) -> str:
    text = _cdata(value) if cdata and isinstance(value, str) else escape(str(value))
    return f"<{name}>{text}</{name}>"


def _meta(kind: str, key: str, value: str) -> str:
    return f"<wp:{kind}>{_tag('wp:meta_key', key)}{_tag('wp:meta_value', value)}</wp:{kind}>"


def _wxr_comment(comment: Comment) -> str:
    local, gmt = _wp_dates(comment.created_at)
    parts = [
        _tag("wp:comment_id", comment.pk),
        _tag("wp:comment_author", comment.author_name),
        _tag("wp:comment_author_email", comment.author_email),
        _tag("wp:comment_author_url", comment.author_url, cdata=False),
        _tag("wp:comment_author_IP", comment.ip_address or ""),
        _tag("wp:comment_date", local),
        _tag("wp:comment_date_gmt", gmt),
        _tag("wp:comment_content", comment.body),
        _tag("wp:comment_approved", _WXR_STATUS[Status(comment.status)]),
        _tag("wp:comment_type", comment.kind),
        _tag("wp:comment_parent", comment.parent_id or 0),
        _tag("wp:comment_user_id", 0),
    ]
    if comment.status == Status.TRASH and comment.status_before_trash:
        # WordPress's own record of what a trashed comment was, for its restore.
        before = _WXR_STATUS[Status(comment.status_before_trash)]
        stamp = str(int(comment.status_changed_at.timestamp()))
        parts += [_meta("commentmeta", "_wp_trash_meta_status", before),
                  _meta("commentmeta", "_wp_trash_meta_time", stamp)]  # fmt: skip
    return "\t\t<wp:comment>\n\t\t\t" + "\n\t\t\t".join(parts) + "\n\t\t</wp:comment>\n"


def _post_id(article: Article) -> int:
    key = article.key
    return int(key) if key.isascii() and key.isdigit() else _POST_ID_OFFSET + article.pk


def _wxr_item(article: Article, comments: list[Comment]) -> str:
    local, gmt = _wp_dates(article.published_at)
    link = article.url or f"{settings.REEX_BASE_URL}/articles/{article.key}/"
    parts = [
        _tag("title", article.title, cdata=False),
        _tag("link", link, cdata=False),
        _tag("pubDate", format_datetime(article.published_at.astimezone(UTC)), cdata=False),
        _tag("dc:creator", "reex"),
        f'<guid isPermaLink="false">{escape(link)}</guid>',
        "<description></description>",
        _tag("content:encoded", ""),
        _tag("excerpt:encoded", ""),
        _tag("wp:post_id", _post_id(article)),
        _tag("wp:post_date", local),
        _tag("wp:post_date_gmt", gmt),
        _tag("wp:comment_status", "open" if article.comments_open else "closed"),
        _tag("wp:ping_status", "closed"),
        _tag("wp:post_name", article.key),
        _tag("wp:status", "publish"),
        _tag("wp:post_parent", 0),
        _tag("wp:menu_order", 0),
        _tag("wp:post_type", "post"),
        _tag("wp:post_password", ""),
        _tag("wp:is_sticky", 0),
        _meta("postmeta", "_reex_key", article.key),
    ]
    body = "\t\t" + "\n\t\t".join(parts) + "\n"
    return "\t<item>\n" + body + "".join(map(_wxr_comment, comments)) + "\t</item>\n"


_WXR_HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<!-- This is a WordPress eXtended RSS file generated by reex's export_comments. -->
<rss version="2.0"
\txmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
\txmlns:content="http://purl.org/rss/1.0/modules/content/"
\txmlns:wfw="http://wellformedweb.org/CommentAPI/"
\txmlns:dc="http://purl.org/dc/elements/1.1/"
\txmlns:wp="http://wordpress.org/export/1.2/"
>
<channel>
\t<title>reex comments</title>
\t<link>{base}</link>
\t<description></description>
\t<pubDate>{now}</pubDate>
\t<language>en</language>
\t<wp:wxr_version>1.2</wp:wxr_version>
\t<wp:base_site_url>{base}</wp:base_site_url>
\t<wp:base_blog_url>{base}</wp:base_blog_url>
\t<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[reex]]></wp:author_login\
><wp:author_email><![CDATA[]]></wp:author_email><wp:author_display_name><![CDATA[reex]]>\
</wp:author_display_name></wp:author>
\t<generator>reex</generator>
"""


def export_wxr(out: TextIO, *, article_key: str | None = None) -> int:
    """Write the comments as a WXR 1.2 file; return how many comments were written."""
    base = escape(settings.REEX_BASE_URL)
    out.write(_WXR_HEAD.format(base=base, now=format_datetime(timezone.now())))
    written = 0
    for article, comments in export_threads(export_articles(article_key=article_key)):
        out.write(_wxr_item(article, comments))
        written += len(comments)
    out.write("</channel>\n</rss>\n")
    return written


# --- JSON ------------------------------------------------------------------------------


def _json_comment(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "parent": comment.parent_id,
        "author_name": comment.author_name,
        "author_email": comment.author_email,
        "author_url": comment.author_url,
        "ip_address": comment.ip_address,
        "user_agent": comment.user_agent,
        "body": comment.body,
        "body_html": comment.body_html,
        "status": comment.status,
        "status_before_trash": comment.status_before_trash,
        "kind": comment.kind,
        "notify_replies": comment.notify_replies,
        "created_at": comment.created_at.isoformat(),
        "import_source": comment.import_source,
        "import_id": comment.import_id,
    }


def _json_article(article: Article, comments: list[Comment]) -> dict[str, Any]:
    return {
        "key": article.key,
        "title": article.title,
        "url": article.url,
        "published_at": article.published_at.isoformat(),
        "comments_open": article.comments_open,
        "comments": [_json_comment(comment) for comment in comments],
    }


def export_json(out: TextIO, *, article_key: str | None = None) -> int:
    """Write the comments as reex's JSON document, an article per line; return the count."""
    head = {"format": JSON_FORMAT, "version": 1, "site": settings.REEX_BASE_URL,
            "exported_at": timezone.now().isoformat()}  # fmt: skip
    out.write(json.dumps(head)[:-1] + ', "articles": [\n')
    written = 0
    for n, (article, comments) in enumerate(
        export_threads(export_articles(article_key=article_key))
    ):
        out.write(("," if n else "") + json.dumps(_json_article(article, comments)) + "\n")
        written += len(comments)
    out.write("]}\n")
    return written
