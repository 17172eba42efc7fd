"""Articles the site never announced, created by a reader's first comment from the embed."""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from comments import tasks
from comments.models import Article
from comments.site_urls import site_url_canonical, title_from_url
from reex.enqueue import enqueue

logger = logging.getLogger(__name__)


def article_title_wanted(*, article: Article, title_hint: str = "") -> None:
    """Ask the site's feed for the real title of an article created with a guessed one.

    A feed poll is queued (never a fetch on the request path); when the feed carries the
    article, the poll replaces the guessed title and clears ``title_wanted``. Until then,
    or without a feed, the article API or a moderator sets the title. ``title_hint`` is
    what the browser claimed: logged for the moderator, never stored as the title.
    """
    logger.info(
        "Article %s created from %s; title wanted (browser hint: %r)",
        article.key,
        article.url,
        title_hint[:300],
    )
    if settings.REEX_FEED_URLS:
        enqueue(tasks.poll_feeds)


def article_get_or_create_for_comment(*, key: str, url: str, title_hint: str = "") -> Article:
    """Return the article with this key, creating it if ``url`` lies under ``REEX_SITE_URLS``.

    Raises Article.DoesNotExist when it is unknown and the URL is not the site's. Two first
    comments at once create one article: the loser of the insert reads the winner's row.
    """
    article = Article.objects.filter(key=key).first()
    if article is not None:
        return article
    canonical = site_url_canonical(url)
    if canonical is None:
        raise Article.DoesNotExist(f"No article {key!r}, and {url!r} is not the site's.")
    article = Article(
        key=key,
        title=title_from_url(canonical, fallback=f"Article {key}"),
        url=canonical,
        published_at=timezone.now(),
        title_wanted=True,
    )
    article.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            article.save(force_insert=True)
    except IntegrityError:
        return Article.objects.get(key=key)
    transaction.on_commit(lambda: article_title_wanted(article=article, title_hint=title_hint))
    return article
