"""Two sign-ups for one new address at once: one subscriber, one email, no error."""

import pytest

from subscriptions import consent, services
from subscriptions.models import ConsentEvent, Delivery, Subscriber
from tests.factories import MailingListFactory
from tests.support.locks import held_in_transaction, started, wait_for_lock_waiters


def _request(requester: services.Requester) -> None:
    services.subscription_request(
        email="ann@example.org",
        lists=[MailingListFactory.create(slug="daily")],  # after a flush: none seeded
        consent=consent.CURRENT,
        requester=requester,
    )


@pytest.mark.postgres_only(reason="row locks; SQLite serialises every writer anyway")
@pytest.mark.django_db(transaction=True)
def test_a_sign_up_racing_an_uncommitted_one_waits_and_finds_its_row(form_requester, delay):
    with held_in_transaction(lambda: _request(form_requester)):
        (second,) = started(lambda: _request(form_requester))
        wait_for_lock_waiters(1, message="the second sign-up never waited")
    second.outcome()

    assert Subscriber.objects.count() == 1
    assert ConsentEvent.objects.filter(action=ConsentEvent.Action.REQUESTED).count() == 2
    assert Delivery.objects.count() == 1  # the second one is inside the cooldown
