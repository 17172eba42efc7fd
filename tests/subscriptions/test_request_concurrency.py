"""Two sign-ups for one new address at once: one subscriber, one email, no error."""

import threading

import pytest
from django.db import connection, transaction

from subscriptions import consent, services
from subscriptions.models import ConsentEvent, Delivery, Subscriber
from tests.subscriptions.factories import MailingListFactory
from tests.support.waiting import wait_until

WAITING_ON_A_LOCK = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock'"
)


def _waiting() -> int:
    with connection.cursor() as cursor:
        cursor.execute(WAITING_ON_A_LOCK)
        return int(cursor.fetchone()[0])


def _request(requester: services.Requester) -> None:
    services.subscription_request(
        email="ann@example.org",
        lists=[MailingListFactory.create(slug="daily")],  # after a flush: none seeded
        consent=consent.CURRENT,
        requester=requester,
    )


@pytest.mark.django_db(transaction=True)
def test_a_sign_up_racing_an_uncommitted_one_waits_and_finds_its_row(form_requester, delay):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (SQLite serialises every writer anyway)")
    inserted, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                _request(form_requester)
                inserted.set()
                release.wait(timeout=10)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def second() -> None:
        try:
            _request(form_requester)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    try:
        assert inserted.wait(timeout=10)
        threads[1].start()
        wait_until(_waiting, timeout=10, message="the second sign-up never waited")
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=10)

    assert errors == []
    assert Subscriber.objects.count() == 1
    assert ConsentEvent.objects.filter(action=ConsentEvent.Action.REQUESTED).count() == 2
    assert Delivery.objects.count() == 1  # the second one is inside the cooldown
