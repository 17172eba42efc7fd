"""Two composers at once (beat ticks overlapping, staff clicking twice): one edition."""

from datetime import UTC, datetime, timedelta

import pytest

from subscriptions import editions, sending
from subscriptions.models import Edition, EditionArticle, MailingList
from tests.factories import ArticleFactory, MailingListFactory
from tests.support.locks import held_in_transaction, started, wait_for_lock_waiters

NOW = datetime(2026, 7, 15, 7, 0, tzinfo=UTC)


@pytest.fixture
def paris(monkeypatch) -> MailingList:
    monkeypatch.setattr(sending, "edition_fan_out", lambda *, edition: None, raising=False)
    mailing_list = MailingListFactory.create(slug="paris", time_zone="UTC")
    MailingList.objects.filter(pk=mailing_list.pk).update(created_at=NOW - timedelta(days=9))
    ArticleFactory.create(published_at=NOW - timedelta(hours=1))
    return mailing_list


@pytest.mark.postgres_only(reason="row locks; SQLite serialises every writer anyway")
@pytest.mark.django_db(transaction=True)
def test_a_beat_tick_racing_an_uncommitted_composition_composes_nothing(paris):
    with held_in_transaction(lambda: editions.editions_due(now=NOW)):
        (second,) = started(lambda: editions.editions_due(now=NOW + timedelta(seconds=30)))
        wait_for_lock_waiters(1, message="the second composer never waited for the list")
    assert second.outcome() == []
    assert Edition.objects.count() == 1
    assert EditionArticle.objects.count() == 1


@pytest.mark.postgres_only(reason="row locks; SQLite serialises every writer anyway")
@pytest.mark.django_db(transaction=True)
def test_two_send_nows_at_once_make_one_edition(paris):
    def send_now() -> Edition | None:
        return editions.edition_compose_now(newsletter_list=paris, now=NOW)

    with held_in_transaction(send_now):
        (second,) = started(send_now)
        wait_for_lock_waiters(1, message="the second send-now never waited for the list")
    assert second.outcome() is None  # nothing new once the first committed
    assert Edition.objects.count() == 1
