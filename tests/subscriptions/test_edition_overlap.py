"""An edition over SMTP with the row check overlapping the envelope (PostgreSQL, outside a
transaction, as in a worker): each recipient once, and an address that unsubscribes,
bounces or complains mid-batch gets nothing."""

import smtplib
from concurrent.futures import Future

import pytest
from django.utils import timezone

from devstack.smtp import SmtpSink
from subscriptions import edition_bytes, edition_email, edition_overlap, edition_sending
from subscriptions.models import (
    Edition,
    EditionDelivery,
    MailingList,
    Subscriber,
    Subscription,
)
from tests.factories import EditionFactory, MailingListFactory, SubscriptionFactory

pytestmark = [
    pytest.mark.postgres_only(reason="the check runs on a second connection"),
    pytest.mark.django_db(transaction=True),
]
State = EditionDelivery.State
HTML = f'<p>To {edition_email.EMAIL}: <a href="{edition_email.UNSUBSCRIBE}">unsubscribe</a></p>'
TEXT = f"News for {edition_email.EMAIL}.\n.\nUnsubscribe: {edition_email.UNSUBSCRIBE}\n"


@pytest.fixture
def sink(settings, mocker):
    mocker.patch("subscriptions.tasks.send_edition_batch.delay")
    sink = SmtpSink()
    sink.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    settings.REEX_SEND_RATE = 0
    yield sink
    sink.stop()


def _sending(count: int) -> tuple[Edition, list[Subscriber]]:
    mailing_list = MailingListFactory.create()
    subscribers = [
        SubscriptionFactory.create(
            mailing_list=mailing_list,
            status=Subscription.Status.CONFIRMED,
            confirmed_at=timezone.now(),
        ).subscriber
        for _ in range(count)
    ]
    edition = EditionFactory.create(
        mailing_list=mailing_list, state=Edition.State.SCHEDULED, html=HTML, text=TEXT
    )
    edition_sending.edition_fan_out(edition=edition)
    return edition, subscribers


def _rows(edition: Edition) -> dict[str, str]:
    rows = EditionDelivery.objects.filter(edition=edition).select_related("subscriber")
    return {row.subscriber.email: row.state for row in rows}


def test_each_recipient_gets_the_edition_once_with_the_check_alongside(sink, mocker):
    edition, subscribers = _sending(5)
    checks = mocker.spy(edition_overlap.Lookahead, "check")

    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 5

    received = sorted(rcpt for _, rcpts in sink.envelopes for rcpt in rcpts)
    assert received == sorted(s.email for s in subscribers)
    assert set(_rows(edition).values()) == {State.SENT}
    assert checks.call_count == 4  # the first message opens the connection the usual way
    one = sink.find(lambda m: m["To"] == subscribers[2].email)
    assert one is not None and subscribers[2].email in one.get_body(("plain",)).get_content()


@pytest.mark.parametrize("change", ["unsubscribed", "bounced", "complained"])
def test_an_address_lost_mid_batch_is_skipped_not_sent(sink, mocker, change):
    edition, _ = _sending(4)
    order = list(
        EditionDelivery.objects.filter(edition=edition).values_list("subscriber_id", flat=True)
    )
    envelope = edition_bytes.smtp_envelope
    leaving = Subscriber.objects.get(pk=order[-1])  # the claim's rows come in any order

    def envelope_then_leave(link: smtplib.SMTP, **kwargs) -> None:
        envelope(link, **kwargs)
        if change == "unsubscribed":
            Subscription.objects.filter(subscriber=leaving).update(
                status=Subscription.Status.UNSUBSCRIBED
            )
        else:
            Subscriber.objects.filter(pk=leaving.pk).update(suppression=change)

    mocker.patch.object(edition_bytes, "smtp_envelope", side_effect=envelope_then_leave)
    mocker.patch.object(edition_sending.sql, "edition_deliveries_claim", wraps=_in_order(order))

    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 3

    received = [rcpt for _, rcpts in sink.envelopes for rcpt in rcpts]
    assert leaving.email not in received
    assert len(received) == 3
    assert _rows(edition)[leaving.email] == State.SKIPPED


def _in_order(order: list[int]):
    """Claim as usual, then sort the rows by ``order`` of subscribers (the last one last)."""
    claim = edition_sending.sql.edition_deliveries_claim

    def claimed(**kwargs):
        rows = claim(**kwargs)
        return sorted(rows, key=lambda row: order.index(row[1]))

    return claimed


def test_a_refused_recipient_fails_alone_and_the_rest_go(sink, mocker):
    edition, subscribers = _sending(3)
    refused = subscribers[1].email
    envelope = edition_bytes.smtp_envelope

    def refuse(link: smtplib.SMTP, *, sender: str, wire: edition_bytes.Wire) -> None:
        if wire.recipient == refused:
            link.rset()
            raise smtplib.SMTPRecipientsRefused({refused: (550, b"no such user")})
        envelope(link, sender=sender, wire=wire)

    mocker.patch.object(edition_bytes, "smtp_envelope", side_effect=refuse)

    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 2
    rows = _rows(edition)
    assert rows[refused] == State.FAILED
    assert sorted(rows.values()) == [State.FAILED, State.SENT, State.SENT]
    assert MailingList.objects.filter(pk=edition.mailing_list_id).exists()


def test_an_address_changed_mid_batch_gets_the_message_at_the_new_address(sink, mocker):
    edition, _ = _sending(3)
    order = list(
        EditionDelivery.objects.filter(edition=edition).values_list("subscriber_id", flat=True)
    )
    moving = Subscriber.objects.get(pk=order[-1])
    envelope = edition_bytes.smtp_envelope

    def envelope_then_move(link: smtplib.SMTP, **kwargs) -> None:
        envelope(link, **kwargs)
        Subscriber.objects.filter(pk=moving.pk).update(email="moved@example.org")

    mocker.patch.object(edition_bytes, "smtp_envelope", side_effect=envelope_then_move)
    mocker.patch.object(edition_sending.sql, "edition_deliveries_claim", wraps=_in_order(order))

    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 3

    received = [rcpt for _, rcpts in sink.envelopes for rcpt in rcpts]
    assert moving.email not in received
    assert "moved@example.org" in received
    message = sink.find(lambda m: m["To"] == "moved@example.org")
    moved = Subscriber(pk=moving.pk, email="moved@example.org")
    expected = edition_bytes.recipient_values(edition=edition, subscriber=moved)
    assert message is not None
    assert message["List-Unsubscribe"] == f"<{expected['unsubscribe']}>"


def test_a_mark_failing_on_the_helper_is_retried_not_sent_again(sink, mocker):
    """The helper's connection fails on the statement that marks the previous message sent
    (and checks the next): that row is marked all the same (by the batch's own
    connection), the rest wait for the next batch, and nobody receives the edition twice."""
    edition, _ = _sending(4)
    real = edition_overlap.Lookahead.check
    calls = {"n": 0}

    def failing_once(self, **kwargs):
        calls["n"] += 1
        if calls["n"] != 2:
            return real(self, **kwargs)
        assert kwargs["sent"] is not None  # it carries the mark of the message before
        failed: Future[tuple] = Future()
        failed.set_exception(ConnectionError("the helper's connection dropped"))
        return failed

    mocker.patch.object(edition_overlap.Lookahead, "check", failing_once)

    with pytest.raises(ConnectionError):
        edition_sending.edition_batch_send(edition_id=edition.pk)

    received = [rcpt for _, rcpts in sink.envelopes for rcpt in rcpts]
    states = _rows(edition)
    assert len(received) == len(set(received))
    assert {email for email, state in states.items() if state == State.SENT} == set(received)
    assert all(state in (State.SENT, State.QUEUED) for state in states.values())
