from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from subscriptions import tasks
from subscriptions.models import ConsentEvent, Delivery, Subscriber, Subscription
from tests.subscriptions.factories import DeliveryFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
Status = Subscription.Status


def _aged(days: float, **kwargs) -> Subscription:
    then = timezone.now() - timedelta(days=days)
    subscription = SubscriptionFactory.create(requested_at=then, **kwargs)
    Subscriber.objects.filter(pk=subscription.subscriber_id).update(created_at=then)
    return subscription


def test_it_deletes_a_stale_pending_sign_up_with_its_personal_data(daily):
    subscription = _aged(8, mailing_list=daily)
    ConsentEvent.objects.create(
        subscriber=subscription.subscriber, action="requested", source="form", ip_address="1.2.3.4"
    )
    DeliveryFactory.create(subscriber=subscription.subscriber)
    tasks.purge_pending()
    assert not Subscriber.objects.exists()
    assert not ConsentEvent.objects.exists()
    assert not Delivery.objects.exists()


def test_it_keeps_a_recent_pending_sign_up(daily):
    _aged(6, mailing_list=daily)
    tasks.purge_pending()
    assert Subscription.objects.count() == 1


def test_it_keeps_confirmed_subscribers(daily):
    _aged(30, mailing_list=daily, status=Status.CONFIRMED)
    tasks.purge_pending()
    assert Subscription.objects.count() == 1


def test_a_once_confirmed_address_falls_back_to_unsubscribed(daily):
    subscription = _aged(8, mailing_list=daily, confirmed_at=timezone.now() - timedelta(days=90))
    tasks.purge_pending()
    subscription.refresh_from_db()
    assert subscription.status == Status.UNSUBSCRIBED


def test_it_keeps_suppressed_addresses_so_they_stay_suppressed(daily):
    subscription = _aged(8, mailing_list=daily)
    Subscriber.objects.update(suppression="bounced")
    tasks.purge_pending()
    assert Subscriber.objects.filter(pk=subscription.subscriber_id).exists()


def test_it_keeps_an_address_confirmed_on_another_list(daily, weekly):
    subscription = _aged(8, mailing_list=daily)
    SubscriptionFactory.create(
        subscriber=subscription.subscriber, mailing_list=weekly, status=Status.CONFIRMED
    )
    tasks.purge_pending()
    assert list(Subscription.objects.values_list("mailing_list__slug", flat=True)) == ["weekly"]


def test_the_purge_runs_on_the_bulk_queue_from_beat(settings):
    task: Any = tasks.purge_pending
    assert task.queue == "bulk"
    assert settings.CELERY_BEAT_SCHEDULE["subscriptions-purge-pending"]["task"] == (
        tasks.purge_pending.name
    )


def test_the_migration_created_the_daily_list(daily):
    assert daily.name == "Daily News Update"
    assert daily.is_public
