"""Sending tasks running at once take disjoint batches: a row being claimed is skipped."""

import threading

import pytest
from django.db import connection, transaction

from subscriptions import sending as services
from subscriptions.models import Delivery
from tests.subscriptions.factories import (
    DeliveryFactory,
    MailingListFactory,
    SubscriptionFactory,
)


@pytest.mark.django_db(transaction=True)
def test_a_delivery_another_worker_is_claiming_is_skipped_not_waited_for(mailoutbox):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (SQLite serialises every writer anyway)")
    # A transactional test may follow another that emptied the tables: no seeded list.
    daily = MailingListFactory.create(slug="daily")
    held, other = (
        DeliveryFactory.create(
            subscriber=SubscriptionFactory.create(mailing_list=daily).subscriber,
            mailing_list=daily,
        )
        for _ in range(2)
    )
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Delivery.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        assert services.deliveries_send(delivery_ids=[held.pk]) == 1
    finally:
        release.set()
        holder.join(timeout=10)

    assert [m.to[0] for m in mailoutbox] == [other.subscriber.email]
    held.refresh_from_db()
    assert held.status == Delivery.Status.QUEUED
