"""Sending an edition: recipients fixed once, rows claimed with a lease, each sent once."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import timezone

from subscriptions import edition_delivery, edition_pausing, edition_sending, sql
from subscriptions.models import (
    Edition,
    EditionDelivery,
    MailingList,
    Subscriber,
    Subscription,
    Suppression,
)
from tests.factories import SubscriptionFactory, UserFactory

State = EditionDelivery.State


@pytest.fixture
def daily(db) -> MailingList:
    return MailingList.objects.get(slug="daily")


@pytest.fixture(autouse=True)
def _messages(mocker, settings):
    """Each recipient's message is the edition's subject to their address."""
    settings.REEX_SEND_RATE = 0
    settings.REEX_SEND_BATCH = 100

    def message_for(edition, subscriber, connection):
        return EmailMessage(
            subject=edition.subject, body="news", to=[subscriber.email], connection=connection
        )

    return mocker.patch.object(edition_delivery, "_message_for", side_effect=message_for)


@pytest.fixture
def batch_delay(mocker):
    return mocker.patch("subscriptions.tasks.send_edition_batch.delay")


def _edition(mailing_list: MailingList, state: str = Edition.State.SENDING) -> Edition:
    now = timezone.now()
    number = Edition.objects.filter(mailing_list=mailing_list).count() + 1
    return Edition.objects.create(
        mailing_list=mailing_list, number=number, state=state, issue_date=now.date(),
        scheduled_for=now, cutoff=now, subject=f"Edition {number}",
        trigger=Edition.Trigger.MANUAL,
    )  # fmt: skip


def _confirmed(mailing_list: MailingList, count: int) -> list[Subscriber]:
    return [
        SubscriptionFactory.create(
            mailing_list=mailing_list, status=Subscription.Status.CONFIRMED
        ).subscriber
        for _ in range(count)
    ]


def _started(mailing_list, count, django_capture_on_commit_callbacks) -> Edition:
    _confirmed(mailing_list, count)
    edition = _edition(mailing_list)
    with django_capture_on_commit_callbacks(execute=True):
        edition_sending.edition_fan_out(edition=edition)
    return edition


def _states(edition: Edition) -> dict[str, int]:
    return edition_sending._state_counts(edition.pk)


def test_fan_out_fixes_the_confirmed_unsuppressed_subscribers_as_recipients(
    daily, batch_delay, django_capture_on_commit_callbacks
):
    confirmed = _confirmed(daily, 3)
    SubscriptionFactory.create(mailing_list=daily, status=Subscription.Status.PENDING)
    SubscriptionFactory.create(mailing_list=daily, status=Subscription.Status.UNSUBSCRIBED)
    bounced = SubscriptionFactory.create(mailing_list=daily, status=Subscription.Status.CONFIRMED)
    Subscriber.objects.filter(pk=bounced.subscriber_id).update(suppression=Suppression.BOUNCED)
    other = MailingList.objects.create(slug="weekly", name="Weekly")
    _confirmed(other, 1)
    edition = _edition(daily)

    with django_capture_on_commit_callbacks(execute=True):
        assert edition_sending.edition_fan_out(edition=edition) == 3

    rows = EditionDelivery.objects.filter(edition=edition)
    assert {row.subscriber_id for row in rows} == {s.pk for s in confirmed}
    assert {row.state for row in rows} == {State.QUEUED}
    assert edition.recipients == 3
    batch_delay.assert_called_once_with(edition.pk)


def test_fan_out_run_twice_adds_no_row_and_no_later_subscriber(
    daily, batch_delay, django_capture_on_commit_callbacks
):
    edition = _started(daily, 2, django_capture_on_commit_callbacks)
    _confirmed(daily, 1)  # confirmed after the edition started

    with django_capture_on_commit_callbacks(execute=True):
        assert edition_sending.edition_fan_out(edition=edition) == 2

    assert EditionDelivery.objects.filter(edition=edition).count() == 2
    assert batch_delay.call_count == 2  # the second run queued the batches again


def test_the_insert_itself_ignores_rows_that_exist(daily, batch_delay):
    _confirmed(daily, 2)
    edition = _edition(daily)
    assert sql.edition_recipients_insert(edition_id=edition.pk, list_id=daily.pk) == 2
    assert sql.edition_recipients_insert(edition_id=edition.pk, list_id=daily.pk) == 0


def test_fan_out_queues_one_task_per_batch(
    daily, batch_delay, settings, django_capture_on_commit_callbacks
):
    settings.REEX_SEND_BATCH = 2
    _started(daily, 5, django_capture_on_commit_callbacks)
    assert batch_delay.call_count == 3


def test_fan_out_queues_no_more_lanes_than_the_limit(
    daily, batch_delay, settings, mocker, django_capture_on_commit_callbacks
):
    settings.REEX_SEND_BATCH = 1
    mocker.patch.object(edition_sending, "SEND_LANES", 2)
    _started(daily, 5, django_capture_on_commit_callbacks)
    assert batch_delay.call_count == 2


def test_a_batch_that_leaves_rows_queues_its_lanes_next_task(
    daily, batch_delay, settings, django_capture_on_commit_callbacks
):
    settings.REEX_SEND_BATCH = 2
    edition = _started(daily, 3, django_capture_on_commit_callbacks)
    batch_delay.reset_mock()
    edition_sending.edition_batch_send(edition_id=edition.pk)
    batch_delay.assert_called_once_with(edition.pk)
    batch_delay.reset_mock()
    edition_sending.edition_batch_send(edition_id=edition.pk)
    batch_delay.assert_not_called()  # the last batch: the edition is done
    edition.refresh_from_db()
    assert edition.state == Edition.State.SENT


def test_fan_out_with_the_broker_down_leaves_the_rows_to_the_sweep(
    daily, mocker, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    mocker.patch("subscriptions.tasks.send_edition_batch.delay", side_effect=OperationalError)
    edition = _started(daily, 2, django_capture_on_commit_callbacks)
    assert _states(edition) == {State.QUEUED: 2}


def test_a_batch_sends_each_recipient_once_and_finishes_the_edition(
    daily, batch_delay, django_capture_on_commit_callbacks
):
    edition = _started(daily, 3, django_capture_on_commit_callbacks)

    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 3
    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 0

    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        EditionDelivery.objects.filter(edition=edition).values_list("subscriber__email", flat=True)
    )
    edition.refresh_from_db()
    assert (edition.state, edition.sent, edition.failed) == (Edition.State.SENT, 3, 0)
    assert edition.finished_at is not None


def test_a_batch_claims_at_most_the_batch_size(
    daily, batch_delay, settings, django_capture_on_commit_callbacks
):
    settings.REEX_SEND_BATCH = 2
    edition = _started(daily, 3, django_capture_on_commit_callbacks)
    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 2
    assert _states(edition) == {State.SENT: 2, State.QUEUED: 1}


def test_two_claims_never_share_a_row(daily, batch_delay, django_capture_on_commit_callbacks):
    edition = _started(daily, 4, django_capture_on_commit_callbacks)
    now = timezone.now()
    until = now + timedelta(minutes=5)
    first = sql.edition_deliveries_claim(edition_id=edition.pk, limit=3, now=now, until=until)
    second = sql.edition_deliveries_claim(edition_id=edition.pk, limit=3, now=now, until=until)
    assert len(first) == 3
    assert len(second) == 1
    assert not {row[0] for row in first} & {row[0] for row in second}


def test_rows_of_a_lapsed_claim_are_claimed_again(
    daily, batch_delay, django_capture_on_commit_callbacks
):
    edition = _started(daily, 2, django_capture_on_commit_callbacks)
    now = timezone.now()
    dead = sql.edition_deliveries_claim(
        edition_id=edition.pk, limit=2, now=now, until=now + timedelta(seconds=30)
    )
    assert sql.edition_deliveries_claim(edition_id=edition.pk, limit=2, now=now, until=now) == []

    later = now + timedelta(seconds=31)
    again = sql.edition_deliveries_claim(
        edition_id=edition.pk, limit=2, now=later, until=later + timedelta(seconds=30)
    )
    assert sorted(row[0] for row in again) == sorted(row[0] for row in dead)
    assert {row[2] for row in again} == {2}  # the second attempt


def test_a_worker_whose_lease_was_taken_over_does_not_send_the_row(
    daily, batch_delay, django_capture_on_commit_callbacks
):
    edition = _started(daily, 1, django_capture_on_commit_callbacks)
    now = timezone.now()
    rows = sql.edition_deliveries_claim(
        edition_id=edition.pk, limit=1, now=now, until=now + timedelta(seconds=1)
    )
    claim = edition_delivery.Claim(edition=edition, rows=rows, until=now + timedelta(seconds=1))
    # The lease lapsed and another worker claimed the row meanwhile.
    EditionDelivery.objects.update(claimed_until=now + timedelta(minutes=5))

    edition_delivery.claim_send(claim)

    assert mail.outbox == []
    assert _states(edition) == {State.SENDING: 1}


@pytest.mark.parametrize("change", ["unsubscribed", "bounced", "complained"])
def test_an_address_lost_during_the_send_is_skipped_not_sent(
    change, daily, batch_delay, django_capture_on_commit_callbacks
):
    edition = _started(daily, 2, django_capture_on_commit_callbacks)
    leaving = EditionDelivery.objects.filter(edition=edition)[0].subscriber
    if change == "unsubscribed":
        Subscription.objects.filter(subscriber=leaving).update(
            status=Subscription.Status.UNSUBSCRIBED
        )
    else:
        Subscriber.objects.filter(pk=leaving.pk).update(suppression=change)

    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 1

    assert leaving.email not in [m.to[0] for m in mail.outbox]
    skipped = EditionDelivery.objects.get(edition=edition, subscriber=leaving)
    assert skipped.state == State.SKIPPED
    assert skipped.error


def test_pausing_mid_batch_stops_it_and_resuming_continues(
    daily, batch_delay, _messages, django_capture_on_commit_callbacks
):
    edition = _started(daily, 3, django_capture_on_commit_callbacks)
    send = _messages.side_effect

    def pause_after_first(edition, subscriber, connection):
        Edition.objects.filter(pk=edition.pk).update(state=Edition.State.PAUSED)
        return send(edition, subscriber, connection)

    _messages.side_effect = pause_after_first
    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 1
    assert _states(edition) == {State.SENT: 1, State.QUEUED: 2}

    _messages.side_effect = send
    Edition.objects.filter(pk=edition.pk).update(state=Edition.State.SENDING)
    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 2
    assert len(mail.outbox) == 3


def test_a_cancelled_edition_skips_what_was_not_sent(
    daily, batch_delay, _messages, django_capture_on_commit_callbacks
):
    edition = _started(daily, 3, django_capture_on_commit_callbacks)
    send = _messages.side_effect

    def cancel_after_first(edition, subscriber, connection):
        Edition.objects.filter(pk=edition.pk).update(state=Edition.State.CANCELLED)
        return send(edition, subscriber, connection)

    _messages.side_effect = cancel_after_first
    edition_sending.edition_batch_send(edition_id=edition.pk)
    assert _states(edition) == {State.SENT: 1, State.SKIPPED: 2}


def test_consecutive_failures_pause_the_edition_and_tell_the_staff(
    daily, batch_delay, _messages, mocker, settings, django_capture_on_commit_callbacks
):
    settings.REEX_SEND_MAX_ERRORS = 3
    mocker.patch.object(edition_delivery, "ERROR_BACKOFF_SECONDS", 0)
    notify = mocker.patch("subscriptions.tasks.notify_edition_paused.delay")
    edition = _started(daily, 5, django_capture_on_commit_callbacks)
    send = _messages.side_effect
    _messages.side_effect = _refusing(mocker, send)

    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 0

    edition.refresh_from_db()
    assert edition.state == Edition.State.PAUSED
    assert "3 sending failures in a row" in edition.reason
    assert _states(edition) == {State.QUEUED: 5}  # nothing lost, nothing failed for good
    notify.assert_called_once_with(edition.pk)

    staff = UserFactory.create(is_staff=True)
    UserFactory.create(is_staff=False)
    mail.outbox.clear()
    assert edition_pausing.edition_paused_notify(edition_id=edition.pk) == 1
    assert mail.outbox[0].to == [staff.email]
    assert "resume" in mail.outbox[0].body

    _messages.side_effect = send
    Edition.objects.filter(pk=edition.pk).update(state=Edition.State.SENDING, consecutive_errors=0)
    mail.outbox.clear()
    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 5
    assert len(mail.outbox) == 5


def test_a_success_between_failures_starts_the_count_again(
    daily, batch_delay, _messages, mocker, settings, django_capture_on_commit_callbacks
):
    settings.REEX_SEND_MAX_ERRORS = 2
    mocker.patch.object(edition_delivery, "ERROR_BACKOFF_SECONDS", 0)
    edition = _started(daily, 4, django_capture_on_commit_callbacks)
    send = _messages.side_effect
    refuse = _refusing(mocker, send)
    outcomes = iter([refuse, send, refuse, send])
    _messages.side_effect = lambda *args: next(outcomes)(*args)

    edition_sending.edition_batch_send(edition_id=edition.pk)

    edition.refresh_from_db()
    assert edition.state == Edition.State.SENDING
    assert _states(edition) == {State.SENT: 2, State.QUEUED: 2}


def test_a_recipient_the_server_refuses_for_good_fails_alone(
    daily, batch_delay, _messages, mocker, django_capture_on_commit_callbacks
):
    edition = _started(daily, 2, django_capture_on_commit_callbacks)
    send = _messages.side_effect
    refused = smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"no such user")})
    outcomes = iter([_refusing(mocker, send, refused), send])
    _messages.side_effect = lambda *args: next(outcomes)(*args)

    edition_sending.edition_batch_send(edition_id=edition.pk)

    edition.refresh_from_db()
    assert (edition.state, edition.sent, edition.failed, edition.consecutive_errors) == (
        Edition.State.SENT, 1, 1, 0,
    )  # fmt: skip


def _refusing(mocker, send, error: Exception | None = None):
    def refuse(edition, subscriber, connection):
        message = send(edition, subscriber, connection)
        failure = error or smtplib.SMTPServerDisconnected("gone")
        mocker.patch.object(message, "send", side_effect=failure)
        return message

    return refuse


def test_the_sweep_frees_the_rows_of_a_dead_worker_and_queues_them(
    daily, batch_delay, django_capture_on_commit_callbacks
):
    edition = _started(daily, 2, django_capture_on_commit_callbacks)
    batch_delay.reset_mock()
    past = timezone.now() - timedelta(seconds=1)
    sql.edition_deliveries_claim(edition_id=edition.pk, limit=2, now=past, until=past)

    assert edition_sending.editions_requeue() == 1

    assert _states(edition) == {State.QUEUED: 2}
    batch_delay.assert_called_once_with(edition.pk)


def test_the_sweep_leaves_an_edition_being_sent_alone(
    daily, batch_delay, django_capture_on_commit_callbacks
):
    edition = _started(daily, 2, django_capture_on_commit_callbacks)
    batch_delay.reset_mock()
    now = timezone.now()
    sql.edition_deliveries_claim(
        edition_id=edition.pk, limit=1, now=now, until=now + timedelta(minutes=5)
    )
    assert edition_sending.editions_requeue() == 0
    batch_delay.assert_not_called()


def test_the_sweep_finishes_an_edition_with_nothing_left(daily, batch_delay):
    edition = _edition(daily)
    assert edition_sending.editions_requeue() == 0
    edition.refresh_from_db()
    assert edition.state == Edition.State.SENT


def test_staff_resuming_a_paused_edition_queues_its_batches_again(
    daily, batch_delay, django_capture_on_commit_callbacks
):
    from subscriptions import editions

    edition = _started(daily, 2, django_capture_on_commit_callbacks)
    assert editions.edition_pause(edition_id=edition.pk)
    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 0  # paused: nothing
    batch_delay.reset_mock()

    with django_capture_on_commit_callbacks(execute=True):
        assert editions.edition_resume(edition_id=edition.pk)

    batch_delay.assert_called_once_with(edition.pk)
    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 2


def test_a_lease_renewed_between_two_emails_still_marks_the_first(
    daily, batch_delay, settings, django_capture_on_commit_callbacks
):
    edition = _started(daily, 3, django_capture_on_commit_callbacks)
    settings.REEX_SEND_LEASE_SECONDS = 0  # renewed before every email

    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 3

    assert _states(edition) == {State.SENT: 3}
