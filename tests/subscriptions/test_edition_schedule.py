"""The schedule: each list's send time in its own zone, DST, missed editions, the seam."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from subscriptions import editions, selectors, sending
from subscriptions.models import Edition, EditionArticle, MailingList
from tests.factories import ArticleFactory, MailingListFactory

HOUR = timedelta(hours=1)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_fan_out(monkeypatch):
    """Sending's hand-over is recorded, not run: these tests are about when it happens."""
    handed: list[int] = []
    monkeypatch.setattr(
        sending, "edition_fan_out", lambda *, edition: handed.append(edition.pk), raising=False
    )
    return handed


def make_list(slug: str, *, zone: str, at: time = time(7, 0)) -> MailingList:
    mailing_list = MailingListFactory.create(
        slug=slug, name=slug.title(), time_zone=zone, send_time=at
    )
    MailingList.objects.filter(pk=mailing_list.pk).update(created_at=LONG_AGO)
    mailing_list.refresh_from_db()
    return mailing_list


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        ("Europe/Paris", date(2026, 1, 15), "2026-01-15 06:00"),  # CET, UTC+1
        ("Europe/Paris", date(2026, 7, 15), "2026-07-15 05:00"),  # CEST, UTC+2
        ("Europe/Paris", date(2026, 3, 29), "2026-03-29 05:00"),  # the day clocks go forward
        ("Europe/Paris", date(2026, 10, 25), "2026-10-25 06:00"),  # the day they go back
        ("America/New_York", date(2026, 3, 8), "2026-03-08 11:00"),  # EDT from 02:00
        ("Asia/Kolkata", date(2026, 3, 8), "2026-03-08 01:30"),  # UTC+5:30, no DST
        ("UTC", date(2026, 3, 8), "2026-03-08 07:00"),
    ],
)
def test_the_send_time_is_the_lists_local_time_through_dst(db, zone, day, expected):
    mailing_list = make_list("zoned", zone=zone)
    assert editions.list_send_at(mailing_list=mailing_list, day=day) == utc(expected)


def test_a_send_time_in_the_spring_gap_falls_an_hour_later(db):
    mailing_list = make_list("gap", zone="Europe/Paris", at=time(2, 30))
    # 02:30 does not exist on 29 March 2026 in Paris: it is read as 03:30 CEST.
    assert editions.list_send_at(mailing_list=mailing_list, day=date(2026, 3, 29)) == utc(
        "2026-03-29 01:30"
    )


def test_a_send_time_that_happens_twice_in_autumn_is_the_first(db):
    mailing_list = make_list("twice", zone="Europe/Paris", at=time(2, 30))
    assert editions.list_send_at(mailing_list=mailing_list, day=date(2026, 10, 25)) == utc(
        "2026-10-25 00:30"
    )


def test_an_unknown_time_zone_is_refused_per_field(db):
    mailing_list = MailingList(slug="bad", name="Bad", time_zone="Mars/Olympus")
    with pytest.raises(ValidationError) as error:
        mailing_list.full_clean()
    assert list(error.value.message_dict) == ["time_zone"]


def test_a_new_list_takes_the_configured_defaults(db, settings):
    settings.REEX_NEWSLETTER_TIME = time(6, 15)
    settings.REEX_NEWSLETTER_TIME_ZONE = "Europe/Berlin"
    mailing_list = MailingList.objects.create(slug="defaults", name="Defaults")
    assert (mailing_list.send_time, mailing_list.time_zone) == (time(6, 15), "Europe/Berlin")


def test_nothing_is_due_before_the_send_time(db, _no_fan_out):
    paris = make_list("paris", zone="Europe/Paris")
    editions.editions_due(now=utc("2026-07-14 05:00"))  # yesterday's edition
    ArticleFactory.create(published_at=utc("2026-07-15 04:00"))
    assert editions.editions_due(now=utc("2026-07-15 04:59")) == []
    assert Edition.objects.filter(mailing_list=paris).count() == 1


def test_yesterdays_edition_never_composed_is_recorded_missed(db, _no_fan_out):
    paris = make_list("paris", zone="Europe/Paris")
    editions.editions_due(now=utc("2026-07-15 04:59"))  # beat was down all yesterday
    edition = Edition.objects.get(mailing_list=paris)
    assert (edition.issue_date, edition.state) == (date(2026, 7, 14), Edition.State.MISSED)


def test_at_the_send_time_the_edition_is_composed_and_handed_to_sending(db, _no_fan_out):
    paris = make_list("paris", zone="Europe/Paris")
    ArticleFactory.create(key="news", published_at=utc("2026-07-15 04:00"))
    due = editions.editions_due(now=utc("2026-07-15 05:00"))
    edition = Edition.objects.get(mailing_list=paris)
    assert [e.pk for e in due] == [edition.pk]
    assert edition.state == Edition.State.SENDING
    assert edition.scheduled_for == utc("2026-07-15 05:00")
    assert edition.issue_date == date(2026, 7, 15)
    assert edition.pk in _no_fan_out


def test_each_list_is_due_at_its_own_time(db):
    make_list("tokyo", zone="Asia/Tokyo")  # 07:00 JST is 22:00 UTC the day before
    make_list("paris", zone="Europe/Paris")
    ArticleFactory.create(published_at=utc("2026-07-14 21:00"))
    editions.editions_due(now=utc("2026-07-14 22:00"))
    due = Edition.objects.exclude(state=Edition.State.MISSED)  # Paris's 14 July: beat was off
    assert list(due.values_list("mailing_list__slug", "issue_date")) == [
        ("tokyo", date(2026, 7, 15))
    ]


def test_one_scheduled_edition_a_day_however_often_beat_runs(db):
    make_list("paris", zone="Europe/Paris")
    ArticleFactory.create(published_at=utc("2026-07-15 04:00"))
    for minute in range(5):
        editions.editions_due(now=utc("2026-07-15 05:00") + minute * timedelta(minutes=1))
    assert Edition.objects.count() == 1


def test_a_day_with_nothing_new_is_recorded_as_skipped_and_not_sent(db, _no_fan_out):
    make_list("quiet", zone="UTC")
    editions.editions_due(now=utc("2026-07-15 07:01"))
    edition = Edition.objects.get()
    assert edition.state == Edition.State.SKIPPED
    assert _no_fan_out == []


def test_the_next_day_after_a_skip_composes_again(db):
    make_list("quiet", zone="UTC")
    editions.editions_due(now=utc("2026-07-15 07:01"))
    ArticleFactory.create(published_at=utc("2026-07-15 20:00"))
    editions.editions_due(now=utc("2026-07-16 07:01"))
    states = list(Edition.objects.order_by("number").values_list("state", flat=True))
    assert states == [Edition.State.SKIPPED, Edition.State.SENDING]


def test_an_evening_send_time_is_still_composed_after_midnight(db):
    make_list("late", zone="UTC", at=time(23, 30))
    ArticleFactory.create(published_at=utc("2026-07-15 22:00"))
    editions.editions_due(now=utc("2026-07-16 00:10"))  # beat was down at 23:30
    edition = Edition.objects.get()
    assert (edition.issue_date, edition.state) == (date(2026, 7, 15), Edition.State.SENDING)


def test_a_list_created_after_todays_send_time_waits_for_tomorrow(db):
    mailing_list = make_list("fresh", zone="UTC")
    MailingList.objects.filter(pk=mailing_list.pk).update(created_at=utc("2026-07-15 09:00"))
    editions.editions_due(now=utc("2026-07-15 09:30"))
    assert not Edition.objects.exists()


def test_an_edition_too_late_to_compose_is_recorded_missed(db, settings, _no_fan_out):
    settings.REEX_NEWSLETTER_MAX_DELAY_HOURS = 3
    make_list("paris", zone="UTC")
    ArticleFactory.create(key="waiting", published_at=utc("2026-07-15 06:00"))
    editions.editions_due(now=utc("2026-07-15 10:01"))  # beat and workers down until now
    edition = Edition.objects.get()
    assert edition.state == Edition.State.MISSED
    assert "3 h" in edition.reason
    assert _no_fan_out == []
    assert not EditionArticle.objects.exists()


def test_the_articles_of_a_missed_edition_go_into_the_next(db, settings):
    settings.REEX_NEWSLETTER_MAX_DELAY_HOURS = 3
    paris = make_list("paris", zone="UTC")
    ArticleFactory.create(key="waiting", published_at=utc("2026-07-15 06:00"))
    editions.editions_due(now=utc("2026-07-15 10:01"))
    editions.editions_due(now=utc("2026-07-16 07:00"))
    edition = Edition.objects.get(mailing_list=paris, issue_date=date(2026, 7, 16))
    assert [a.key for a in selectors.edition_articles(edition=edition)] == ["waiting"]


def test_a_composed_edition_not_started_in_time_is_marked_missed(db, settings, monkeypatch):
    settings.REEX_NEWSLETTER_MAX_DELAY_HOURS = 3
    make_list("paris", zone="UTC")
    ArticleFactory.create(key="waiting", published_at=utc("2026-07-15 06:00"))

    def broken(*, edition):
        raise ConnectionError("database of recipients unreachable")

    monkeypatch.setattr(sending, "edition_fan_out", broken, raising=False)
    with pytest.raises(ConnectionError):
        editions.editions_due(now=utc("2026-07-15 07:00"))
    edition = Edition.objects.get()
    assert edition.state == Edition.State.SCHEDULED  # the failed start left it scheduled
    editions.editions_due(now=utc("2026-07-15 10:01"))
    edition.refresh_from_db()
    assert edition.state == Edition.State.MISSED
    assert not EditionArticle.objects.filter(edition=edition).exists()


def test_a_failed_start_is_tried_again_while_in_time(db, monkeypatch, _no_fan_out):
    make_list("paris", zone="UTC")
    ArticleFactory.create(published_at=utc("2026-07-15 06:00"))
    edition = editions.edition_compose(
        newsletter_list=MailingList.objects.get(slug="paris"),
        now=utc("2026-07-15 07:00"),
        scheduled_for=utc("2026-07-15 07:00"),
    )
    editions.editions_due(now=utc("2026-07-15 08:00"))
    edition.refresh_from_db()
    assert edition.state == Edition.State.SENDING
    assert _no_fan_out == [edition.pk]


def test_a_start_happens_once(db, _no_fan_out):
    make_list("paris", zone="UTC")
    ArticleFactory.create(published_at=utc("2026-07-15 06:00"))
    editions.editions_due(now=utc("2026-07-15 07:00"))
    edition = Edition.objects.get()
    assert editions.edition_start(edition_id=edition.pk, now=utc("2026-07-15 07:01")) is False
    assert _no_fan_out == [edition.pk]


def test_a_start_past_the_delay_is_refused(db, settings, _no_fan_out):
    settings.REEX_NEWSLETTER_MAX_DELAY_HOURS = 3
    paris = make_list("paris", zone="UTC")
    ArticleFactory.create(published_at=utc("2026-07-15 06:00"))
    edition = editions.edition_compose(
        newsletter_list=paris, now=utc("2026-07-15 07:00"), scheduled_for=utc("2026-07-15 07:00")
    )
    assert editions.edition_start(edition_id=edition.pk, now=utc("2026-07-15 10:01")) is False
    assert _no_fan_out == []


def test_the_beat_entry_runs_the_task_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["subscriptions-editions-due"]
    assert entry["task"] == "subscriptions.tasks.editions_due"
    assert entry["schedule"] == 60.0


def test_the_task_runs_the_schedule(db, mocker):
    from subscriptions import tasks

    due = mocker.patch("subscriptions.editions.editions_due", return_value=[])
    assert tasks.editions_due() == 0
    due.assert_called_once_with()


def test_the_due_edition_is_missed_rather_than_sent_late_across_lists(db, settings):
    settings.REEX_NEWSLETTER_MAX_DELAY_HOURS = 1
    make_list("a", zone="UTC", at=time(7, 0))
    make_list("b", zone="UTC", at=time(9, 0))
    ArticleFactory.create(published_at=utc("2026-07-15 06:00"))
    editions.editions_due(now=utc("2026-07-15 09:30"))
    states = dict(Edition.objects.values_list("mailing_list__slug", "state"))
    assert states == {"a": Edition.State.MISSED, "b": Edition.State.SENDING}
    assert HOUR  # one hour of delay allowed: b is 30 minutes late, a 2 h 30
