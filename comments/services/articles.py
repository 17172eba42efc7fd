"""Articles the site never announced, created by a reader's first comment from the embed."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from comments.models import Article
from comments.site_urls import site_url_canonical, title_from_url

logger = logging.getLogger(__name__)


def article_title_wanted(*, article: Article, title_hint: str = "") -> None:
    """Ask for the real title of an article created with a guessed one.

    The seam where the site's feed is asked (a feed lookup, never a fetch on the request
    path). Nothing is queued yet: the article stays marked ``title_wanted`` until the feed,
    the article API or a moderator sets its title. ``title_hint`` is what the browser
    claimed, kept for that lookup only, never stored as the title.
    """
    logger.info(
        "Article %s created from %s; title wanted (browser hint: %r)",
        article.key,
        article.url,
        title_hint[:300],
    )


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
