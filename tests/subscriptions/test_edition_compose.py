"""Composing an edition: which articles, in which order, never twice, none from the future."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError

from comments.models import Article
from subscriptions import editions, selectors
from subscriptions.models import Edition, EditionArticle, MailingList
from tests.factories import ApprovedCommentFactory, ArticleFactory, MailingListFactory

NOW = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def news(db) -> MailingList:
    mailing_list = MailingListFactory.create(slug="news", name="News", time_zone="UTC")
    MailingList.objects.filter(pk=mailing_list.pk).update(created_at=NOW - timedelta(days=365))
    mailing_list.refresh_from_db()
    return mailing_list


def article(key: str, published_at: datetime) -> Article:
    return ArticleFactory.create(key=key, title=key.title(), published_at=published_at)


def keys(edition: Edition) -> list[str]:
    return [a.key for a in selectors.edition_articles(edition=edition)]


def test_the_first_edition_takes_the_last_24_hours_newest_first(news):
    article("old", NOW - 25 * HOUR)
    article("morning", NOW - 1 * HOUR)
    article("evening", NOW - 12 * HOUR)
    edition = editions.edition_compose(newsletter_list=news, now=NOW)
    assert edition.state == Edition.State.SCHEDULED
    assert keys(edition) == ["morning", "evening"]
    assert edition.cutoff == NOW


def test_the_first_edition_of_a_new_list_starts_when_the_list_was_created(news):
    MailingList.objects.filter(pk=news.pk).update(created_at=NOW - 2 * HOUR)
    news.refresh_from_db()
    article("before-the-list", NOW - 3 * HOUR)
    article("after-the-list", NOW - 1 * HOUR)
    edition = editions.edition_compose(newsletter_list=news, now=NOW)
    assert keys(edition) == ["after-the-list"]


def test_the_next_edition_starts_at_the_previous_cutoff(news):
    article("yesterday", NOW - 2 * HOUR)
    editions.edition_compose(newsletter_list=news, now=NOW)
    article("just-before-cutoff", NOW + 23 * HOUR)
    article("exactly-at-the-next-cutoff", NOW + 24 * HOUR)
    edition = editions.edition_compose(newsletter_list=news, now=NOW + 24 * HOUR)
    assert keys(edition) == ["exactly-at-the-next-cutoff", "just-before-cutoff"]


def test_an_article_published_before_the_cutoff_and_already_known_waits_for_no_one(news):
    article("in-time", NOW - 2 * HOUR)
    article("dated-yesterday", NOW - 30 * HOUR)  # outside the first window, known already
    editions.edition_compose(newsletter_list=news, now=NOW)
    edition = editions.edition_compose(newsletter_list=news, now=NOW + 24 * HOUR)
    assert edition.state == Edition.State.SKIPPED


def test_an_article_that_arrives_after_the_cutoff_dated_before_it_goes_into_the_next(news):
    article("in-time", NOW - 2 * HOUR)
    editions.edition_compose(newsletter_list=news, now=NOW)
    article("polled-late", NOW - 5 * 60 * timedelta(seconds=1))  # arrives after the cutoff
    edition = editions.edition_compose(newsletter_list=news, now=NOW + 24 * HOUR)
    assert keys(edition) == ["polled-late"]


def test_an_article_is_never_in_two_editions_of_a_list(news):
    article("once", NOW - HOUR)
    first = editions.edition_compose(newsletter_list=news, now=NOW)
    second = editions.edition_compose(newsletter_list=news, now=NOW + 24 * HOUR)
    assert keys(first) == ["once"]
    assert second.state == Edition.State.SKIPPED
    assert EditionArticle.objects.filter(article__key="once").count() == 1


def test_the_same_article_may_be_in_an_edition_of_each_list(news, weekly):
    MailingList.objects.filter(pk=weekly.pk).update(created_at=NOW - timedelta(days=30))
    weekly.refresh_from_db()
    article("shared", NOW - HOUR)
    assert keys(editions.edition_compose(newsletter_list=news, now=NOW)) == ["shared"]
    assert keys(editions.edition_compose(newsletter_list=weekly, now=NOW)) == ["shared"]


def test_an_article_dated_in_the_future_waits_for_its_edition(news):
    article("now", NOW - HOUR)
    article("embargoed", NOW + 2 * HOUR)
    first = editions.edition_compose(newsletter_list=news, now=NOW)
    second = editions.edition_compose(newsletter_list=news, now=NOW + 24 * HOUR)
    assert keys(first) == ["now"]
    assert keys(second) == ["embargoed"]


def test_articles_are_compared_in_utc_whatever_their_offset(news):
    paris_morning = datetime.fromisoformat("2026-03-10T07:30:00+01:00")  # 06:30 UTC
    article("paris", paris_morning)
    article("after-cutoff", datetime.fromisoformat("2026-03-10T08:30:00+01:00"))  # 07:30 UTC
    edition = editions.edition_compose(newsletter_list=news, now=NOW)
    assert keys(edition) == ["paris"]


def test_nothing_new_records_a_skipped_edition_and_renders_nothing(news):
    edition = editions.edition_compose(newsletter_list=news, now=NOW)
    assert edition.state == Edition.State.SKIPPED
    assert edition.reason == "no new articles"
    assert edition.html == "" and edition.subject == ""
    assert edition.finished_at == NOW


def test_a_send_now_with_nothing_new_records_nothing(news):
    edition = editions.edition_compose_now(newsletter_list=news, now=NOW)
    assert edition is None
    assert not Edition.objects.filter(mailing_list=news).exists()


def test_editions_are_numbered_per_list(news):
    article("a", NOW - HOUR)
    first = editions.edition_compose(newsletter_list=news, now=NOW)
    article("b", NOW + 0.5 * HOUR)
    second = editions.edition_compose_now(newsletter_list=news, now=NOW + HOUR)
    assert second is not None
    assert (first.number, second.number, second.trigger) == (1, 2, Edition.Trigger.MANUAL)
    assert keys(second) == ["b"]


def test_a_second_scheduled_edition_for_the_same_day_is_refused(news):
    editions.edition_compose(newsletter_list=news, now=NOW)
    with pytest.raises(IntegrityError):
        editions.edition_compose(newsletter_list=news, now=NOW + HOUR)


def test_the_edition_is_rendered_once_when_composed(news):
    article("rendered", NOW - HOUR)
    edition = editions.edition_compose(newsletter_list=news, now=NOW)
    assert edition.subject == "News: Rendered"
    assert "Rendered" in edition.html and "Rendered" in edition.text


def test_a_list_with_conversations_ends_with_the_liveliest(news):
    news.include_conversations = True
    news.save()
    quiet = article("quiet", NOW - 2 * HOUR)
    busy = article("busy", NOW - 3 * HOUR)
    ApprovedCommentFactory.create(article=busy, body="First!", created_at=NOW - HOUR)
    ApprovedCommentFactory.create(
        article=busy, body="Rare earths are back.", created_at=NOW - 0.5 * HOUR
    )
    ApprovedCommentFactory.create(article=quiet, body="Hm.", created_at=NOW - HOUR)
    edition = editions.edition_compose(newsletter_list=news, now=NOW)
    conversations = edition.html[edition.html.index("From the comments") :]
    assert conversations.index("Busy") < conversations.index("Quiet")
    assert "Rare earths are back." in conversations


def test_a_list_without_conversations_has_none(news):
    busy = article("busy", NOW - 3 * HOUR)
    ApprovedCommentFactory.create(article=busy, created_at=NOW - HOUR)
    edition = editions.edition_compose(newsletter_list=news, now=NOW)
    assert "From the comments" not in edition.html
