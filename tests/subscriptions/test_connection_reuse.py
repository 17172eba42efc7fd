import smtplib
from collections.abc import Iterator
from unittest.mock import Mock

import pytest
from celery.signals import worker_process_init, worker_process_shutdown
from django.core.mail.backends import locmem

from reex import smtp
from subscriptions import sending
from subscriptions.models import Delivery, MailingList, Subscription
from tests.subscriptions.factories import DeliveryFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def kept() -> Iterator[None]:
    smtp.connection_keep(enabled=True)
    yield
    smtp.connection_keep(enabled=False)


def _confirmation(mailing_list: MailingList) -> Delivery:
    subscription = SubscriptionFactory.create(mailing_list=mailing_list)
    return DeliveryFactory.create(subscriber=subscription.subscriber, mailing_list=mailing_list)


def _send(delivery: Delivery) -> int:
    return sending.deliveries_send(delivery_ids=[delivery.pk])


def test_a_worker_reuses_one_connection_for_the_tasks_that_follow(daily, mocker, mailoutbox):
    get_connection = mocker.spy(smtp, "get_connection")
    deliveries = []
    for _ in range(3):  # one at a time: each task finds only its own
        deliveries.append(_confirmation(daily))
        assert _send(deliveries[-1]) == 1
    assert get_connection.call_count == 1
    assert sorted(m.to[0] for m in mailoutbox) == sorted(d.subscriber.email for d in deliveries)


def test_outside_a_worker_each_call_opens_and_closes_its_own(daily, mocker, mailoutbox):
    smtp.connection_keep(enabled=False)
    get_connection = mocker.spy(smtp, "get_connection")
    close = mocker.spy(locmem.EmailBackend, "close")
    _send(_confirmation(daily))
    _send(_confirmation(daily))
    assert get_connection.call_count == 2
    assert close.call_count == 2
    assert len(mailoutbox) == 2


def test_after_an_smtp_error_the_next_task_opens_a_new_connection(daily, mocker, mailoutbox):
    get_connection = mocker.spy(smtp, "get_connection")
    _send(_confirmation(daily))
    failing = _confirmation(daily)
    send = mocker.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        side_effect=smtplib.SMTPServerDisconnected("gone"),
    )
    with pytest.raises(sending.DeliveriesReleased):
        _send(failing)
    mocker.stop(send)
    assert _send(failing) == 1
    assert get_connection.call_count == 2
    assert len(mailoutbox) == 2


def test_a_kept_connection_the_server_dropped_is_replaced_before_sending(daily, mocker, mailoutbox):
    get_connection = mocker.spy(smtp, "get_connection")
    _send(_confirmation(daily))
    dropped = get_connection.spy_return
    dropped.connection = Mock(noop=Mock(side_effect=smtplib.SMTPServerDisconnected("idle")))
    assert _send(_confirmation(daily)) == 1
    assert get_connection.call_count == 2
    assert get_connection.spy_return is not dropped
    assert len(mailoutbox) == 2


def test_a_connection_idle_too_long_is_not_reused(daily, mocker, mailoutbox, monkeypatch):
    monkeypatch.setattr(smtp, "KEPT_CONNECTION_IDLE_SECONDS", 0.0)
    get_connection = mocker.spy(smtp, "get_connection")
    _send(_confirmation(daily))
    _send(_confirmation(daily))
    assert get_connection.call_count == 2


def test_each_delivery_still_goes_out_once_over_a_kept_connection(daily, mailoutbox):
    delivery = _confirmation(daily)
    assert _send(delivery) == 1
    assert _send(delivery) == 0
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert len(mailoutbox) == 1


def test_worker_processes_turn_keeping_on_at_start_and_off_at_shutdown(daily, mocker, mailoutbox):
    smtp.connection_keep(enabled=False)
    worker_process_init.send(sender=None)
    get_connection = mocker.spy(smtp, "get_connection")
    close = mocker.spy(locmem.EmailBackend, "close")
    _send(_confirmation(daily))
    _send(_confirmation(daily))
    assert (get_connection.call_count, close.call_count) == (1, 0)
    worker_process_shutdown.send(sender=None, pid=0, exitcode=0)
    assert close.call_count == 1
    _send(_confirmation(daily))
    assert (get_connection.call_count, close.call_count) == (2, 2)


def test_a_confirmed_list_member_gets_the_welcome_over_the_same_connection(daily, mocker):
    get_connection = mocker.spy(smtp, "get_connection")
    _send(_confirmation(daily))
    subscription = SubscriptionFactory.create(
        mailing_list=daily, status=Subscription.Status.CONFIRMED
    )
    welcome = DeliveryFactory.create(
        subscriber=subscription.subscriber, mailing_list=daily, kind=Delivery.Kind.WELCOME
    )
    assert _send(welcome) == 1
    assert get_connection.call_count == 1
