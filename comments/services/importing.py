"""Imported history: articles and already-decided comments written in bulk, sanitised by
the same code as new comments, audited, and never moderated or emailed about."""

import ipaddress
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from comments.importing.records import ArticleRecord, CommentRecord
from comments.models import Article, Comment, ModerationEvent
from comments.sanitize import sanitize
from comments.services.personal_data import ANONYMOUS_AUTHOR
from comments.services.submission import comment_body_normalise
from comments.services.transitions import public_lists_changed
from reex.addresses import email_normalise
from reex.validators import HttpUrlValidator

Status = Comment.Status
_EMAIL, _WEBSITE, _URL = EmailValidator(), HttpUrlValidator(), URLValidator()
_CONTROL = {c: None for c in range(32) if chr(c) not in "\n\t"} | {127: None}
# Lone surrogates (possible in JSON) cannot be stored: PostgreSQL refuses them.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable(text: str) -> str:
    """Return the text without the control characters and surrogates no field may hold."""
    return _SURROGATE.sub("", text.translate(_CONTROL))


def _line(text: str, *, max_length: int) -> str:
    return " ".join(_storable(text).split())[:max_length]


@dataclass(frozen=True)
class ArticleRef:
    """What the comments of an imported article need of it."""

    pk: int
    key: str


@dataclass
class ImportedBatch:
    """What one batch of imported comments gave: saved rows, skips and fixes by reason."""

    created: list[Comment]
    skipped: Counter[str]
    fixed: Counter[str]


def _valid(value: str, validator: object, *, max_length: int) -> str:
    if not value or len(value) > max_length:
        return ""
    try:
        validator(value)  # type: ignore[operator]
    except ValidationError:
        return ""
    return value


def _article_fields(record: ArticleRecord) -> dict[str, object]:
    fields: dict[str, object] = {
        "title": _line(record.title, max_length=300) or record.key,
        "url": _valid(record.url, _URL, max_length=500),
    }
    if record.published_at is not None:
        fields["published_at"] = record.published_at
    return fields


def article_import(*, record: ArticleRecord, update: bool) -> tuple[ArticleRef, str]:
    """Create the article a file describes, or find it by key (and, for Disqus, by URL).

    Returns its reference and "created", "updated" or "unchanged". ``update`` lets the
    file's title, URL and date replace an existing article's (WordPress knows its posts);
    an existing article's comments_open is the moderators' and never changes here.
    Raises ValidationError for a key that is not a slug.
    """
    fields = _article_fields(record)
    article = Article.objects.select_for_update().filter(key=record.key).first()
    if article is None and not update and fields["url"]:
        article = _article_by_url(str(fields["url"]))
    if article is None:
        article = Article(key=record.key, comments_open=record.comments_open, **fields)
        article.full_clean()
        article.save()
        return ArticleRef(article.pk, article.key), "created"
    changed = {k: v for k, v in fields.items() if update and v and getattr(article, k) != v}
    if changed:
        Article.objects.filter(pk=article.pk).update(**changed, updated_at=timezone.now())
    return ArticleRef(article.pk, article.key), "updated" if changed else "unchanged"


def _article_by_url(url: str) -> Article | None:
    """Return the article at this URL, whatever its scheme or trailing slash."""
    bare = url.split("://", 1)[-1].rstrip("/")
    variants = [f"{scheme}://{bare}{slash}" for scheme in ("https", "http") for slash in ("/", "")]
    return Article.objects.select_for_update().filter(url__in=variants).order_by("pk").first()


def _fixed_fields(record: CommentRecord, fixed: Counter[str]) -> dict[str, object]:
    """Return the author fields as stored; drop (and count) what cannot be kept."""
    name = _line(record.author_name, max_length=100)
    email = _valid(email_normalise(record.author_email), _EMAIL, max_length=254)
    website = _valid(record.author_url.strip(), _WEBSITE, max_length=200)
    ip: str | None = record.ip_address.strip()
    try:
        ipaddress.ip_address(ip or "")
    except ValueError:
        ip = None
    for what, given, kept in (
        ("email", record.author_email.strip(), email),
        ("website", record.author_url.strip(), website),
        ("IP address", record.ip_address.strip(), ip),
    ):
        if given and not kept:
            fixed[f"invalid {what} left out"] += 1
    return {"author_name": name or ANONYMOUS_AUTHOR, "author_email": email,
            "author_url": website, "ip_address": ip}  # fmt: skip


def _comment(
    record: CommentRecord, *, source: str, article: ArticleRef, now: datetime, fixed: Counter[str]
) -> Comment | str:
    """Return the unsaved comment for a record, or why it is skipped."""
    body = comment_body_normalise(_storable(record.body))
    if not body:
        return "empty text"
    if record.created_at is None:
        return "no date"
    return Comment(
        article_id=article.pk,
        **_fixed_fields(record, fixed),
        body=body,
        body_html=sanitize(body),
        status=record.status,
        status_before_trash=record.status_before_trash,
        status_changed_at=now,
        checked_at=now,
        created_at=record.created_at,
        user_agent=_line(record.user_agent, max_length=500),
        kind=record.kind,
        import_source=source,
        import_id=record.source_id,
        import_parent_id=record.parent_source_id,
    )


def _imported(source: str) -> "QuerySet[Comment]":
    """Return the source's comments, along the (source, id) index: its condition spelt out."""
    return Comment.objects.filter(import_source=source).exclude(import_id="").order_by()


def _new_only(
    records: Sequence[CommentRecord], skipped: Counter[str], *, source: str
) -> list[CommentRecord]:
    """Return the records not yet stored, each id once (before any costly work on them)."""
    ids = [r.source_id for r in records]
    known = set(_imported(source).filter(import_id__in=ids).values_list("import_id", flat=True))
    new: dict[str, CommentRecord] = {}
    for record in records:
        if record.source_id in known:
            skipped["already imported"] += 1
        elif record.source_id in new:
            skipped["the same id twice in the file"] += 1
        else:
            new[record.source_id] = record
    return list(new.values())


def _audit(comments: list[Comment], *, source: str, now: datetime) -> None:
    ModerationEvent.objects.bulk_create(
        ModerationEvent(
            comment=c,
            rule="import",
            action="import",
            from_status=Status.PENDING,
            to_status=c.status,
            reason=f"Imported from {source} (id {c.import_id})."[:500],
            created_at=now,
        )
        for c in comments
    )


@transaction.atomic
def comments_import(
    *, source: str, records: Sequence[CommentRecord], articles: dict[str, ArticleRef]
) -> ImportedBatch:
    """Save a batch of already-decided comments of known articles; link no threads yet.

    A comment whose (source, id) is already stored is skipped, so a re-run adds nothing.
    Each saved comment gets one audit event ("import"); none is queued for moderation
    and none owes an email. Call comments_import_link_threads once all are saved.
    """
    now, skipped, fixed = timezone.now(), Counter[str](), Counter[str]()
    built: list[Comment] = []
    for record in _new_only(records, skipped, source=source):
        article = articles.get(record.article_ref)
        made = _comment(record, source=source, article=article, now=now, fixed=fixed) if (
            article is not None
        ) else "its article was not imported"  # fmt: skip
        if isinstance(made, str):
            skipped[made] += 1
        else:
            built.append(made)
    created = Comment.objects.bulk_create(built)
    _audit(created, source=source, now=now)
    keys = {a.pk: a.key for a in articles.values()}
    public_lists_changed(keys[c.article_id] for c in created if c.status == Status.APPROVED)
    return ImportedBatch(created=created, skipped=skipped, fixed=fixed)


@dataclass(frozen=True)
class ThreadLinks:
    linked: int
    parent_missing: int
    cycles: int


@transaction.atomic
def comments_import_link_threads(*, source: str) -> ThreadLinks:
    """Give the source's replies their parent, root and depth, whatever the file order.

    Set-based: one UPDATE links every reply to its parent (same source and article), then
    one UPDATE per level sets depth and root below the levels already known. A reply whose
    parent is not in the database stays a top comment; a loop of replies is broken.
    """
    imported = _imported(source)
    unlinked = imported.filter(parent=None).exclude(import_parent_id="")
    parents = imported.filter(import_id=OuterRef("import_parent_id"), article=OuterRef("article"))
    unlinked.update(parent=Subquery(parents.values("pk")[:1]))
    linked = 0
    while True:
        ready = imported.filter(depth=0, parent__isnull=False).filter(
            Q(parent__parent=None) | Q(parent__depth__gt=0)
        )
        parent = Comment.objects.filter(pk=OuterRef("parent_id"))
        done = ready.update(
            depth=Subquery(parent.values("depth")[:1]) + 1,
            root=Coalesce(Subquery(parent.values("root")[:1]), F("parent")),
        )
        if not done:
            break
        linked += done
    cycles = imported.filter(depth=0, parent__isnull=False).update(parent=None, root=None)
    missing = imported.filter(parent=None).exclude(import_parent_id="").count()
    return ThreadLinks(linked=linked, parent_missing=missing - cycles, cycles=cycles)
