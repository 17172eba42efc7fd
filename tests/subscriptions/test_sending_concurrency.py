"""Sending tasks running at once take disjoint batches: a row being claimed is skipped."""

import pytest

from subscriptions import sending
from subscriptions.models import Delivery
from tests.factories import (
    DeliveryFactory,
    MailingListFactory,
    SubscriptionFactory,
)
from tests.support.locks import row_locked


@pytest.mark.postgres_only(reason="row locks; SQLite serialises every writer anyway")
@pytest.mark.django_db(transaction=True)
def test_a_delivery_another_worker_is_claiming_is_skipped_not_waited_for(mailoutbox):
    # A transactional test may follow another that emptied the tables: no seeded list.
    daily = MailingListFactory.create(slug="daily")
    held, other = (
        DeliveryFactory.create(
            subscriber=SubscriptionFactory.create(mailing_list=daily).subscriber,
            mailing_list=daily,
        )
        for _ in range(2)
    )

    with row_locked(Delivery.objects.filter(pk=held.pk)):
        assert sending.deliveries_send(delivery_ids=[held.pk]) == 1

    assert [m.to[0] for m in mailoutbox] == [other.subscriber.email]
    held.refresh_from_db()
    assert held.status == Delivery.Status.QUEUED
