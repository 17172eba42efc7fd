import re
import smtplib
from datetime import timedelta
from typing import Any

import pytest
from celery.exceptions import Retry
from django.core.mail.backends import locmem
from django.utils import timezone

from reex import smtp
from subscriptions import sending, tasks, tokens
from subscriptions.models import Delivery, Subscription
from tests.subscriptions.factories import DeliveryFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
Status = Subscription.Status


@pytest.fixture
def confirmation(daily) -> Delivery:
    subscription = SubscriptionFactory.create(mailing_list=daily)
    return DeliveryFactory.create(subscriber=subscription.subscriber, mailing_list=daily)


@pytest.fixture
def welcome(daily) -> Delivery:
    subscription = SubscriptionFactory.create(mailing_list=daily, status=Status.CONFIRMED)
    return DeliveryFactory.create(
        subscriber=subscription.subscriber, mailing_list=daily, kind=Delivery.Kind.WELCOME
    )


def _send(*deliveries: Delivery) -> int:
    return sending.deliveries_send(delivery_ids=[d.pk for d in deliveries])


def _status(delivery: Delivery) -> str:
    delivery.refresh_from_db()
    return delivery.status


def test_the_confirmation_links_to_the_confirm_page_on_the_base_url(
    confirmation, mailoutbox, settings
):
    settings.REEX_BASE_URL = "https://news.example.org"
    assert _send(confirmation) == 1
    message = mailoutbox[0]
    assert message.to == [confirmation.subscriber.email]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    link = re.search(r"https://news.example.org/subscriptions/confirm/([^/\s]+)/", message.body)
    assert link is not None
    content = tokens.confirmation_token_read(link.group(1))
    assert content == tokens.ConfirmationToken(confirmation.subscriber_id, confirmation.nonce)
    assert _status(confirmation) == Delivery.Status.SENT


@pytest.mark.parametrize("kind", ["confirmation", "welcome"])
def test_every_email_carries_one_click_unsubscribe_headers(kind, request, mailoutbox):
    delivery = request.getfixturevalue(kind)
    _send(delivery)
    message = mailoutbox[0]
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    url = re.fullmatch(r"<(http://testserver/subscriptions/unsubscribe/([^/]+)/)>", unsubscribe)
    assert url is not None
    assert tokens.unsubscribe_token_read(url.group(2)) == tokens.UnsubscribeToken(
        delivery.subscriber_id, delivery.mailing_list_id
    )
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Id"] == "Daily News Update <daily.testserver>"
    assert url.group(1) in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{url.group(1)}"' in html


def test_the_welcome_names_the_list(welcome, mailoutbox):
    _send(welcome)
    assert mailoutbox[0].subject == "Welcome to the Daily News Update"


def test_nothing_is_sent_twice_when_the_task_runs_twice(confirmation, mailoutbox):
    tasks.send_deliveries([confirmation.pk])
    tasks.send_deliveries([confirmation.pk])
    assert len(mailoutbox) == 1
    confirmation.refresh_from_db()
    assert confirmation.attempts == 1


def test_a_superseded_confirmation_is_not_sent(confirmation, mailoutbox):
    confirmation.subscriber.confirm_nonce = "newer"
    confirmation.subscriber.save()
    _send(confirmation)
    assert mailoutbox == []
    assert _status(confirmation) == Delivery.Status.SKIPPED


def test_a_suppressed_address_is_not_mailed(welcome, mailoutbox):
    welcome.subscriber.suppression = "bounced"
    welcome.subscriber.save()
    _send(welcome)
    assert mailoutbox == []
    assert _status(welcome) == Delivery.Status.SKIPPED


def test_a_welcome_after_unsubscribing_is_not_sent(welcome, mailoutbox):
    Subscription.objects.update(status=Status.UNSUBSCRIBED)
    _send(welcome)
    assert mailoutbox == []


def test_an_smtp_error_releases_the_delivery_and_raises_for_a_retry(confirmation, mocker):
    mocker.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        side_effect=smtplib.SMTPServerDisconnected("gone"),
    )
    with pytest.raises(sending.DeliveriesReleased) as released:
        _send(confirmation)
    assert released.value.delivery_ids == [confirmation.pk]
    confirmation.refresh_from_db()
    assert confirmation.status == Delivery.Status.QUEUED
    assert "gone" in confirmation.last_error


def test_a_connection_error_releases_the_delivery_too(confirmation, mocker):
    mocker.patch(
        "django.core.mail.backends.locmem.EmailBackend.open",
        side_effect=ConnectionRefusedError("no smtp"),
    )
    with pytest.raises(sending.DeliveriesReleased) as released:
        _send(confirmation)
    assert isinstance(released.value.error, OSError)
    assert _status(confirmation) == Delivery.Status.QUEUED


def test_after_a_failure_the_retry_sends_exactly_once(confirmation, mocker, mailoutbox):
    send = mocker.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        side_effect=smtplib.SMTPServerDisconnected("gone"),
    )
    with pytest.raises(sending.DeliveriesReleased):
        _send(confirmation)
    mocker.stop(send)
    _send(confirmation)
    _send(confirmation)
    assert len(mailoutbox) == 1


def test_a_permanently_refused_recipient_fails_without_retrying(confirmation, mocker):
    refused = smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"no such user")})
    mocker.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=refused)
    assert _send(confirmation) == 0
    assert _status(confirmation) == Delivery.Status.FAILED


def test_a_temporarily_refused_recipient_is_retried(confirmation, mocker):
    refused = smtplib.SMTPRecipientsRefused({"x@example.org": (451, b"try later")})
    mocker.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=refused)
    with pytest.raises(sending.DeliveriesReleased):
        _send(confirmation)
    assert _status(confirmation) == Delivery.Status.QUEUED


def test_several_emails_in_one_task_share_one_connection(daily, weekly, mocker, mailoutbox):
    subscriber = SubscriptionFactory.create(mailing_list=daily, status=Status.CONFIRMED).subscriber
    SubscriptionFactory.create(subscriber=subscriber, mailing_list=weekly, status=Status.CONFIRMED)
    deliveries = [
        DeliveryFactory.create(subscriber=subscriber, mailing_list=m, kind="welcome")
        for m in (daily, weekly)
    ]
    get_connection = mocker.spy(smtp, "get_connection")
    assert _send(*deliveries) == 2
    assert get_connection.call_count == 1
    assert len(mailoutbox) == 2


def test_any_other_error_releases_the_delivery_for_the_sweep(confirmation, mocker):
    mocker.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        side_effect=RuntimeError("bug"),
    )
    with pytest.raises(RuntimeError):
        _send(confirmation)
    assert _status(confirmation) == Delivery.Status.QUEUED


def test_the_sending_task_retries_what_was_released_with_backoff(confirmation, mocker):
    mocker.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        side_effect=smtplib.SMTPServerDisconnected("gone"),
    )
    retry = mocker.patch.object(tasks.send_deliveries, "retry", side_effect=Retry())
    with pytest.raises(Retry):
        tasks.send_deliveries([confirmation.pk])
    options = retry.call_args.kwargs
    assert options["args"] == ([confirmation.pk],)
    assert isinstance(options["exc"], smtplib.SMTPServerDisconnected)
    assert 0 <= options["countdown"] <= 1  # first retry: up to 2**0 s, jittered


def test_the_sending_task_keeps_retrying_for_more_than_an_hour():
    task: Any = tasks.send_deliveries  # options set by the decorator, untyped in stubs
    assert task.queue == "email"
    # 1 + 2 + ... + 512 s, then 10 minutes a try: well over an hour before giving up.
    backoff = (min(2**n, tasks.SEND_RETRY_BACKOFF_MAX) for n in range(task.max_retries))
    assert sum(backoff) > 3600


# --- batches ------------------------------------------------------------------------


def _confirmations(daily, count: int) -> list[Delivery]:
    return [
        DeliveryFactory.create(
            subscriber=SubscriptionFactory.create(mailing_list=daily).subscriber,
            mailing_list=daily,
        )
        for _ in range(count)
    ]


def test_a_task_also_sends_the_other_fresh_deliveries_over_its_connection(
    daily, mocker, mailoutbox
):
    deliveries = _confirmations(daily, 3)
    get_connection = mocker.spy(smtp, "get_connection")
    assert _send(deliveries[1]) == 3
    assert get_connection.call_count == 1
    assert sorted(m.to[0] for m in mailoutbox) == sorted(d.subscriber.email for d in deliveries)
    assert [_send(d) for d in deliveries] == [0, 0, 0]
    assert len(mailoutbox) == 3


def test_a_batch_reads_the_subscriptions_once(daily, django_assert_num_queries):
    deliveries = _confirmations(daily, 5)
    # Claim (one UPDATE) and read the rows, read the subscriptions, one write per email.
    with django_assert_num_queries(2 + 1 + 5):
        assert _send(deliveries[0]) == 5


def test_after_its_own_a_task_takes_the_newest_fresh_deliveries(daily, mailoutbox, monkeypatch):
    monkeypatch.setattr(sending, "SEND_BATCH", 2)
    old, own, newest = _confirmations(daily, 3)
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert _send(own) == 2
    assert [_status(d) for d in (old, own, newest)] == ["queued", "sent", "sent"]


def test_a_delivery_waiting_for_its_own_retry_is_left_to_it(daily, mailoutbox):
    failed, fresh = _confirmations(daily, 2)
    Delivery.objects.filter(pk=failed.pk).update(attempts=1, last_attempt_at=timezone.now())
    assert _send(fresh) == 1
    assert _status(failed) == Delivery.Status.QUEUED
    assert _send(failed) == 1


def test_an_error_mid_batch_puts_back_the_rest_and_names_it_for_the_retry(
    daily, mocker, mailoutbox
):
    deliveries = _confirmations(daily, 3)
    real = locmem.EmailBackend.send_messages
    calls = {"n": 0}

    def second_fails(backend: locmem.EmailBackend, messages: list[Any]) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise smtplib.SMTPServerDisconnected("gone")
        return real(backend, messages)

    mocker.patch.object(
        locmem.EmailBackend, "send_messages", autospec=True, side_effect=second_fails
    )
    with pytest.raises(sending.DeliveriesReleased) as released:
        _send(deliveries[0])
    # After its own, the task took the newest first.
    assert released.value.delivery_ids == [deliveries[1].pk, deliveries[2].pk][::-1]
    assert [_status(d) for d in deliveries] == ["sent", "queued", "queued"]
    assert "gone" in Delivery.objects.get(pk=deliveries[2].pk).last_error
    assert sending.deliveries_send(delivery_ids=released.value.delivery_ids) == 2
    assert sorted(m.to[0] for m in mailoutbox) == sorted(d.subscriber.email for d in deliveries)


# --- the sweep ----------------------------------------------------------------------


def test_the_sweep_requeues_mail_the_broker_never_got(confirmation, delay):
    Delivery.objects.update(created_at=timezone.now() - timedelta(minutes=2), enqueued_at=None)
    assert sending.deliveries_requeue() == 1
    delay.assert_called_once_with([confirmation.pk])
    assert Delivery.objects.get().enqueued_at is not None


def test_the_sweep_leaves_mail_just_queued_alone(confirmation, delay):
    Delivery.objects.update(enqueued_at=timezone.now())
    sending.deliveries_requeue()
    delay.assert_not_called()


def test_the_sweep_leaves_mail_that_is_being_retried_alone(confirmation, delay):
    now = timezone.now()
    Delivery.objects.update(
        enqueued_at=now - timedelta(hours=1), last_attempt_at=now - timedelta(minutes=5)
    )
    sending.deliveries_requeue()
    delay.assert_not_called()


def test_the_sweep_requeues_mail_whose_retries_ran_out(confirmation, delay):
    now = timezone.now()
    Delivery.objects.update(
        enqueued_at=now - timedelta(hours=2), last_attempt_at=now - timedelta(minutes=20)
    )
    sending.deliveries_requeue()
    delay.assert_called_once_with([confirmation.pk])


def test_the_sweep_frees_a_claim_left_by_a_dead_worker(confirmation, delay):
    Delivery.objects.update(
        status=Delivery.Status.SENDING,
        claimed_at=timezone.now() - timedelta(minutes=20),
        enqueued_at=timezone.now() - timedelta(minutes=20),
        last_attempt_at=timezone.now() - timedelta(minutes=20),
    )
    sending.deliveries_requeue()
    assert _status(confirmation) == Delivery.Status.QUEUED
    delay.assert_called_once_with([confirmation.pk])


def test_the_sweep_gives_up_on_mail_older_than_a_link_lives(confirmation, delay, settings):
    Delivery.objects.update(created_at=timezone.now() - timedelta(hours=73))
    sending.deliveries_requeue()
    assert _status(confirmation) == Delivery.Status.FAILED
    delay.assert_not_called()


def test_the_sweep_task_runs_on_the_email_queue_and_beat_schedules_it(settings):
    task: Any = tasks.requeue_deliveries
    assert task.queue == "email"
    entry = settings.CELERY_BEAT_SCHEDULE["subscriptions-requeue"]
    assert entry["task"] == tasks.requeue_deliveries.name
