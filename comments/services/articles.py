"""Articles from the site's own feeds: each item saved on its own, each feed's state kept.

A feed that cannot be fetched or read is logged and left for the next poll with its old
validators, so the next poll fetches it whole. One item that cannot be saved is logged and
skipped; the others go in. Polls do not overlap (a cache lock), and repeating one only
updates what it saved before: the article key is the identity.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from comments.feed_fetch import FeedFetchError, FeedResponse, feed_fetch
from comments.feed_poll import FeedItem, FeedMalformed, ParsedFeed, feed_parse
from comments.models import Article, FeedState

logger = logging.getLogger(__name__)

FEED_FIELDS = ("title", "url", "summary", "author", "image_url", "published_at")
POLL_LOCK_KEY = "comments:feeds-poll-lock"
FEED_URL_LENGTH = FeedState._meta.get_field("url").max_length or 500
Outcome = Literal["created", "updated", "unchanged"]


@dataclass
class FeedReport:
    """What one poll of one feed did: article keys created and updated, and what failed."""

    url: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    not_modified: bool = False
    # Why the feed as a whole was not read (retried at the next poll), or "".
    error: str = ""
    # One line per item left out.
    problems: list[str] = field(default_factory=list)


@dataclass
class FeedPollReport:
    feeds: list[FeedReport] = field(default_factory=list)
    # Another poll held the lock: this one did nothing.
    skipped: bool = False

    @property
    def error_count(self) -> int:
        return sum(bool(feed.error) + len(feed.problems) for feed in self.feeds)


def _carried(item: FeedItem) -> dict[str, object]:
    """Return the fields the feed carries for this item (the others keep their values)."""
    values = {name: getattr(item, name) for name in FEED_FIELDS}
    return {name: value for name, value in values.items() if value not in (None, "")}


def _created(item: FeedItem) -> Article | None:
    """Create the article, or return None if a parallel poll created it first."""
    article = Article(key=item.key, **_carried(item))
    article.full_clean(validate_unique=False)  # the unique index decides, race-free
    try:
        with transaction.atomic():
            article.save()
    except IntegrityError:
        return None
    return article


def _existing(item: FeedItem) -> Article | None:
    """Return the item's article, locked: by key, else one already known by the same link.

    An article added by the API or admin under another key (a slug) is the same post; a
    second one under the post ID would split its comments.
    """
    locked = Article.objects.select_for_update()
    article = locked.filter(key=item.key).first()
    if article is None and item.url:
        article = locked.filter(url=item.url).order_by("pk").first()
    return article


@transaction.atomic
def article_feed_upsert(*, item: FeedItem) -> tuple[Outcome, str]:
    """Create or update the article of a feed item; return what happened and its key.

    Raise ValidationError (per field) if the item's values cannot be saved.
    """
    article = _existing(item)
    if article is None:
        if _created(item) is not None:
            return "created", item.key
        article = Article.objects.select_for_update().get(key=item.key)
    # The feed knows the article: a title guessed from its URL (the embed) is replaced.
    values = {**_carried(item), "title_wanted": False}
    if all(getattr(article, name) == value for name, value in values.items()):
        return "unchanged", article.key
    for name, value in values.items():
        setattr(article, name, value)
    article.full_clean()
    article.save()
    return "updated", article.key


def _items_save(parsed: ParsedFeed, report: FeedReport) -> None:
    report.problems.extend(parsed.problems)
    for item in parsed.items:
        try:
            outcome, key = article_feed_upsert(item=item)
        except (ValidationError, DataError) as error:
            report.problems.append(f"{item.key}: {_message(error)}")
            continue
        if outcome == "unchanged":
            report.unchanged += 1
        else:
            getattr(report, outcome).append(key)
    for problem in report.problems:
        logger.warning("feed %s: item skipped: %s", report.url, problem)


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        return "; ".join(f"{name}: {' '.join(m)}" for name, m in error.message_dict.items())
    return str(error)


def _state_save(
    state: FeedState, *, now: datetime, error: str, response: FeedResponse | None = None
) -> None:
    """Record the poll; keep the validators of the content just read, if they fit."""
    state.last_polled_at, state.last_error = now, error[:1000]
    if response is not None:
        state.last_success_at = now
        state.etag = response.etag if len(response.etag) <= 500 else ""
        state.modified = response.modified if len(response.modified) <= 100 else ""
    state.save()


def _parsed(response: FeedResponse) -> ParsedFeed:
    return feed_parse(response.content, content_type=response.content_type, base_url=response.url)


def feed_poll(*, url: str) -> FeedReport:
    """Fetch one feed (conditional GET), save its items as articles, record its state."""
    report = FeedReport(url=url)
    if len(url) > FEED_URL_LENGTH:
        report.error = f"feed URL longer than {FEED_URL_LENGTH} characters"
        return report
    state, _ = FeedState.objects.get_or_create(url=url)
    try:
        response = feed_fetch(url=url, etag=state.etag, modified=state.modified)
        parsed = None if response.not_modified else _parsed(response)
    except (FeedFetchError, FeedMalformed) as error:
        report.error = str(error)
        logger.warning("feed %s not read, left for the next poll: %s", url, error)
        _state_save(state, now=timezone.now(), error=report.error)
        return report
    if parsed is None:
        report.not_modified = True
    else:
        _items_save(parsed, report)
    _state_save(state, now=timezone.now(), error="; ".join(report.problems), response=response)
    logger.info(
        "feed %s: %d created, %d updated, %d unchanged%s",
        url, len(report.created), len(report.updated), report.unchanged,
        " (not modified)" if report.not_modified else "",
    )  # fmt: skip
    return report


def _lock_seconds(urls: list[str]) -> int:
    """Long enough for the slowest poll; a dead poller's lock lapses by the next turn."""
    slowest = len(urls) * settings.REEX_FEED_TIMEOUT_SECONDS * 2 + 60
    return int(max(settings.REEX_FEED_POLL_MINUTES * 60, slowest))


def feeds_poll(*, urls: list[str] | None = None) -> FeedPollReport:
    """Poll the feeds (default: REEX_FEED_URLS) now, unless another poll is running."""
    urls = list(settings.REEX_FEED_URLS if urls is None else urls)
    token = uuid.uuid4().hex
    if not cache.add(POLL_LOCK_KEY, token, timeout=_lock_seconds(urls)):
        logger.info("feeds not polled: another poll is running")
        return FeedPollReport(skipped=True)
    try:
        return FeedPollReport(feeds=[feed_poll(url=url) for url in urls])
    finally:
        if cache.get(POLL_LOCK_KEY) == token:
            cache.delete(POLL_LOCK_KEY)
