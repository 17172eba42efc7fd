"""Two polls saving one new item at once: one creates it, the other updates, no error."""

from datetime import UTC, datetime

import pytest

from comments.feed_poll import FeedItem
from comments.models import Article
from comments.services import article_feed_upsert
from tests.support.locks import held_in_transaction, started, wait_for_lock_waiters

ITEM = FeedItem(
    key="4812",
    title="China\u2019s exports fall",
    url="https://rareearthexchanges.example/news/china/",
    summary="Exports fell.",
    published_at=datetime(2024, 5, 14, 7, 30, tzinfo=UTC),
)


@pytest.mark.postgres_only(reason="an uncommitted insert makes a second one wait")
@pytest.mark.django_db(transaction=True)
def test_an_item_created_by_a_parallel_poll_is_updated_instead():
    def other_poll() -> None:
        Article.objects.create(key="4812", title="First seen by the other poll")

    with held_in_transaction(other_poll):
        [this_poll] = started(lambda: article_feed_upsert(item=ITEM))
        wait_for_lock_waiters(1, message="the second insert never waited")
    assert this_poll.outcome() == ("updated", "4812")
    article = Article.objects.get(key="4812")
    assert (article.title, article.summary) == (ITEM.title, "Exports fell.")
