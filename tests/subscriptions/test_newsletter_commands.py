"""newsletter_send and newsletter_status on a terminal."""

from datetime import time, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from subscriptions import sending
from subscriptions.models import Edition, EditionDelivery, MailingList, Subscription
from tests.factories import ArticleFactory, EditionFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
Status = Subscription.Status


@pytest.fixture(autouse=True)
def _fan_out(monkeypatch):
    """Stand in for sending's fan-out: one queued row per confirmed, unsuppressed address."""

    def fan_out(*, edition):
        confirmed = Subscription.objects.filter(
            mailing_list=edition.mailing_list, status=Status.CONFIRMED, subscriber__suppression=""
        )
        EditionDelivery.objects.bulk_create(
            EditionDelivery(edition=edition, subscriber_id=s.subscriber_id) for s in confirmed
        )

    monkeypatch.setattr(sending, "edition_fan_out", fan_out, raising=False)


@pytest.fixture
def daily_since_yesterday(daily) -> MailingList:
    MailingList.objects.filter(pk=daily.pk).update(created_at=timezone.now() - timedelta(days=2))
    daily.refresh_from_db()
    return daily


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_newsletter_send_prints_the_edition_its_articles_and_recipients(daily_since_yesterday):
    ArticleFactory.create(
        title="Lanthanum up",
        url="https://news.example.org/la/",
        published_at=timezone.now() - timedelta(hours=2),
    )
    ArticleFactory.create(title="Cerium down", published_at=timezone.now() - timedelta(hours=1))
    for status in (Status.CONFIRMED, Status.CONFIRMED, Status.PENDING, Status.UNSUBSCRIBED):
        SubscriptionFactory.create(mailing_list=daily_since_yesterday, status=status)
    output = run("newsletter_send", "daily")
    edition = Edition.objects.get(mailing_list=daily_since_yesterday)
    assert edition.state == Edition.State.SENDING
    assert edition.trigger == Edition.Trigger.MANUAL
    assert f"Daily News Update No. {edition.number}" in output
    assert "Subject: Daily News Update: Cerium down (and 1 more)" in output
    assert "Articles (2):" in output
    assert output.index("Cerium down") < output.index("Lanthanum up  https://news.example.org/la/")
    assert "Recipients: 2" in output


def test_newsletter_send_says_nothing_new_and_records_nothing(daily_since_yesterday):
    output = run("newsletter_send", "daily")
    assert output == "Daily News Update: nothing new since the last edition.\n"
    assert not Edition.objects.exists()


def test_newsletter_send_twice_sends_only_what_is_new(daily_since_yesterday):
    ArticleFactory.create(published_at=timezone.now() - timedelta(hours=1))
    run("newsletter_send", "daily")
    Edition.objects.update(state=Edition.State.SENT)
    assert "nothing new" in run("newsletter_send", "daily")


def test_newsletter_send_refuses_while_an_edition_is_under_way(daily_since_yesterday):
    EditionFactory.create(mailing_list=daily_since_yesterday, state=Edition.State.PAUSED)
    ArticleFactory.create(published_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(CommandError, match="under way"):
        run("newsletter_send", "daily")


def test_newsletter_send_of_an_unknown_list_is_an_error(db):
    with pytest.raises(CommandError, match="No list 'nope'"):
        run("newsletter_send", "nope")


def test_newsletter_status_shows_the_schedule_and_each_editions_counts(daily):
    MailingList.objects.filter(pk=daily.pk).update(send_time=time(7, 0), time_zone="Europe/Paris")
    EditionFactory.create(
        mailing_list=daily, number=1, state=Edition.State.SENT, recipients=10, sent=9, failed=1
    )
    EditionFactory.create(
        mailing_list=daily, number=2, state=Edition.State.SKIPPED, reason="no new articles"
    )
    output = run("newsletter_status")
    assert "Daily News Update (daily): sends at 07:00 Europe/Paris, next " in output
    assert "No. 1 2026-" in output
    assert "sent: 10 recipients, 9 sent, 1 failed, 0 remaining" in output
    assert "skipped: 0 recipients, 0 sent, 0 failed, 0 remaining (no new articles)" in output
    assert output.index("No. 2") < output.index("No. 1")


def test_newsletter_status_shows_rate_and_time_left_while_sending(daily):
    edition = EditionFactory.create(
        mailing_list=daily,
        number=1,
        state=Edition.State.SENDING,
        started_at=timezone.now() - timedelta(seconds=100),
    )
    subscriptions = SubscriptionFactory.create_batch(30, mailing_list=daily)
    EditionDelivery.objects.bulk_create(
        EditionDelivery(
            edition=edition,
            subscriber_id=s.subscriber_id,
            state=EditionDelivery.State.SENT if n < 10 else EditionDelivery.State.QUEUED,
        )
        for n, s in enumerate(subscriptions)
    )
    output = run("newsletter_status")
    assert "sending: 30 recipients, 10 sent, 0 failed, 20 remaining, 0.1/s" in output
    assert "3 min 2" in output  # 20 left at 0.1/s: about 200 s


def test_newsletter_status_without_editions_says_so(daily):
    assert "no edition yet" in run("newsletter_status")
