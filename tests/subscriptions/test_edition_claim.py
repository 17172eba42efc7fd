"""The claim checks its rows in the statement that claims them, and the check before each
message still stops an address lost after the claim."""

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import timezone

from subscriptions import edition_delivery, edition_sending, sql, tasks
from subscriptions.models import Edition, EditionDelivery, Subscriber, Subscription

State = EditionDelivery.State
CHANGES = ["unsubscribed", "pending", "left", "bounced", "complained"]


@pytest.fixture(autouse=True)
def _messages(mocker, settings):
    settings.REEX_SEND_RATE = 0
    mocker.patch("subscriptions.tasks.send_edition_batch.delay")

    def message_for(edition, subscriber, connection):
        to = [subscriber.email]
        return EmailMessage(subject="news", body="news", to=to, connection=connection)

    mocker.patch.object(edition_delivery, "_message_for", side_effect=message_for)


def _lose(subscriber: Subscriber, change: str) -> None:
    """The address may no longer be mailed on the list, one way or another."""
    subscriptions = Subscription.objects.filter(subscriber=subscriber)
    if change == "unsubscribed":
        subscriptions.update(status=Subscription.Status.UNSUBSCRIBED)
    elif change == "pending":
        subscriptions.update(status=Subscription.Status.PENDING)
    elif change == "left":
        subscriptions.delete()
    else:
        Subscriber.objects.filter(pk=subscriber.pk).update(suppression=change)


def _claim(edition: Edition) -> tuple[list[edition_delivery.Row], datetime]:
    now = timezone.now()
    until = now + timedelta(minutes=5)
    rows = sql.edition_deliveries_claim(edition_id=edition.pk, limit=10, now=now, until=until)
    return rows, until


@pytest.mark.parametrize("change", CHANGES)
def test_the_claim_skips_a_row_whose_address_was_lost_since_the_fan_out(edition, change):
    leaving = EditionDelivery.objects.filter(edition=edition)[0].subscriber
    _lose(leaving, change)

    rows, _ = _claim(edition)

    assert leaving.pk not in [row[1] for row in rows]
    assert len(rows) == 2
    skipped = EditionDelivery.objects.get(edition=edition, subscriber=leaving)
    assert skipped.state == State.SKIPPED
    if change in ("bounced", "complained"):
        assert skipped.error == f"address suppressed ({change}) since the edition started"
    else:
        assert skipped.error == "no longer subscribed"
    others = EditionDelivery.objects.filter(edition=edition).exclude(subscriber=leaving)
    assert set(others.values_list("state", flat=True)) == {State.SENDING}


def test_the_claim_returns_each_rows_address_as_it_is_now(edition):
    moving = EditionDelivery.objects.filter(edition=edition)[0].subscriber
    Subscriber.objects.filter(pk=moving.pk).update(email="moved@example.org")

    rows, _ = _claim(edition)

    emails = {subscriber_id: email for _, subscriber_id, _, email in rows}
    assert emails[moving.pk] == "moved@example.org"
    assert sorted(emails.values()) == sorted(Subscriber.objects.values_list("email", flat=True))
    assert {attempts for _, _, attempts, _ in rows} == {1}


@pytest.mark.parametrize("change", CHANGES)
def test_an_address_lost_between_the_claim_and_its_message_gets_nothing(edition, change):
    rows, until = _claim(edition)
    leaving = Subscriber.objects.get(pk=rows[1][1])
    _lose(leaving, change)

    claim = edition_delivery.Claim(edition=edition, rows=rows, until=until)
    edition_delivery.claim_send(claim)

    received = [m.to[0] for m in mail.outbox]
    assert leaving.email not in received
    assert len(received) == 2
    assert claim.sent == 2
    assert EditionDelivery.objects.get(edition=edition, subscriber=leaving).state == State.SKIPPED


@pytest.mark.postgres_only(reason="prepared statements are PostgreSQL's")
def test_the_statement_each_message_runs_is_prepared_and_django_s_are_not(edition):
    from django.db import connection

    rows, until = _claim(edition)
    list_id = edition.mailing_list_id
    for row in rows:
        sql.edition_row_check(row_id=row[0], until=until, list_id=list_id)

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    starts = sorted(" ".join(s.split())[:20] for s in prepared)
    assert starts == ["SELECT (d.state = $1", "WITH checked AS ( SE"]  # the check, the claim
    assert connection.connection.prepare_threshold is None  # Django's own queries: as before


def test_a_batch_whose_every_row_was_skipped_hands_the_lane_on(edition, settings, mocker):
    """The claim skips the lost addresses and finds nothing to send: the row still queued
    behind them gets the lane's next task, and the edition is not left waiting."""
    settings.REEX_SEND_BATCH = 2
    deliveries = list(EditionDelivery.objects.filter(edition=edition).order_by("pk"))
    for delivery in deliveries[:2]:  # the first batch (rows are claimed in table order)
        _lose(delivery.subscriber, "unsubscribed")
    next_task = mocker.patch.object(tasks.send_edition_batch, "delay")

    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 0
    next_task.assert_called_once_with(edition.pk)
    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 1

    states = dict(EditionDelivery.objects.filter(edition=edition).values_list("pk", "state"))
    assert [states[d.pk] for d in deliveries] == [State.SKIPPED, State.SKIPPED, State.SENT]
    edition.refresh_from_db()
    assert edition.state == Edition.State.SENT
