from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.utils import timezone

from privacy.hashing import email_hash
from privacy.models import SuppressedHash
from subscriptions import consent, services
from subscriptions.models import ConsentEvent, Delivery, Subscriber, Subscription, Suppression
from tests.subscriptions.factories import DeliveryFactory, SubscriberFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
Status = Subscription.Status


def _request(email, lists, requester):
    services.subscription_request(
        email=email, lists=lists, consent=consent.CURRENT, requester=requester
    )


def test_a_new_address_becomes_pending_with_one_confirmation(daily, form_requester):
    _request("ann@example.org", [daily], form_requester)
    subscription = Subscription.objects.get(subscriber__email="ann@example.org")
    assert subscription.status == Status.PENDING
    delivery = Delivery.objects.get()
    assert delivery.kind == Delivery.Kind.CONFIRMATION
    assert delivery.nonce == subscription.subscriber.confirm_nonce != ""


def test_it_logs_the_request_with_the_consent_text_shown(daily, form_requester):
    _request("ann@example.org", [daily], form_requester)
    event = ConsentEvent.objects.get()
    assert event.action == ConsentEvent.Action.REQUESTED
    assert event.source == "form"
    assert event.ip_address == "203.0.113.7"
    assert event.user_agent == "pytest browser"
    assert event.consent_version == consent.CURRENT.version
    assert event.consent_text == consent.CURRENT.text
    assert event.mailing_list == daily


def test_it_queues_the_confirmation_after_commit(
    daily, form_requester, delay, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _request("ann@example.org", [daily], form_requester)
    delivery = Delivery.objects.get()
    delay.assert_called_once_with([delivery.pk])
    delivery.refresh_from_db()
    assert delivery.enqueued_at is not None


def test_a_broker_outage_at_sign_up_leaves_the_mail_to_the_sweep(
    daily, form_requester, delay, django_capture_on_commit_callbacks
):
    delay.side_effect = ConnectionRefusedError("broker down")
    with django_capture_on_commit_callbacks(execute=True):
        _request("ann@example.org", [daily], form_requester)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.QUEUED
    assert delivery.enqueued_at is None


def test_a_new_address_costs_one_statement_on_postgresql(
    daily, weekly, form_requester, django_assert_num_queries
):
    # Subscriber, its erased suppression (privacy), consent records, subscriptions,
    # confirmation: one statement on PostgreSQL; elsewhere five, and the savepoint pair
    # that the transaction is inside the test's own.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 7):
        _request("ann@example.org", [daily, weekly], form_requester)
    assert ConsentEvent.objects.count() == Subscription.objects.count() == 2
    assert Delivery.objects.get().mailing_list == daily


def test_an_erased_bounced_address_signing_up_again_comes_back_suppressed(daily, form_requester):
    SuppressedHash.objects.create(
        email_hash=email_hash("ann@example.org"), reason=Suppression.BOUNCED
    )
    _request("Ann@Example.org", [daily], form_requester)
    subscriber = Subscriber.objects.get()
    assert subscriber.suppression == Suppression.BOUNCED
    assert subscriber.suppressed_at is not None
    assert not Delivery.objects.exists()
    assert ConsentEvent.objects.filter(action=ConsentEvent.Action.REQUESTED).count() == 1


def test_a_new_address_in_good_standing_is_not_suppressed(daily, form_requester):
    SuppressedHash.objects.create(email_hash=email_hash("bob@example.org"), reason="bounced")
    _request("ann@example.org", [daily], form_requester)
    subscriber = Subscriber.objects.get()
    assert (subscriber.suppression, subscriber.suppressed_at) == ("", None)


def test_addresses_are_unique_whatever_their_case(daily, form_requester):
    _request("Ann@Example.ORG", [daily], form_requester)
    _request("ann@example.org", [daily], form_requester)
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "ann@example.org"


def test_the_database_refuses_a_second_address_differing_only_in_case(db):
    SubscriberFactory.create(email="bob@example.org")
    with pytest.raises(IntegrityError):
        SubscriberFactory.create(email="BOB@example.org")


def test_it_refuses_an_invalid_address(daily, form_requester):
    with pytest.raises(ValidationError):
        _request("not-an-address", [daily], form_requester)
    assert not Subscriber.objects.exists()


def test_a_confirmed_address_gets_nothing_new(daily, form_requester):
    subscription = SubscriptionFactory.create(status=Status.CONFIRMED, mailing_list=daily)
    _request(subscription.subscriber.email, [daily], form_requester)
    subscription.refresh_from_db()
    assert subscription.status == Status.CONFIRMED
    assert not Delivery.objects.exists()


def test_a_suppressed_address_gets_nothing_but_the_request_is_logged(daily, form_requester):
    subscriber = SubscriberFactory.create(suppression=Suppression.BOUNCED)
    _request(subscriber.email, [daily], form_requester)
    assert not Subscription.objects.exists()
    assert not Delivery.objects.exists()
    assert ConsentEvent.objects.filter(action=ConsentEvent.Action.REQUESTED).count() == 1


def test_an_unsubscribed_address_becomes_pending_and_gets_a_confirmation(daily, form_requester):
    subscription = SubscriptionFactory.create(status=Status.UNSUBSCRIBED, mailing_list=daily)
    _request(subscription.subscriber.email, [daily], form_requester)
    subscription.refresh_from_db()
    assert subscription.status == Status.PENDING
    assert Delivery.objects.count() == 1


def test_a_pending_address_gets_no_new_email_within_the_cooldown(daily, form_requester):
    _request("ann@example.org", [daily], form_requester)
    _request("ann@example.org", [daily], form_requester)
    assert Delivery.objects.count() == 1


def test_a_pending_address_gets_a_fresh_email_after_the_cooldown(daily, form_requester, settings):
    settings.REEX_CONFIRMATION_COOLDOWN_SECONDS = 600
    _request("ann@example.org", [daily], form_requester)
    first = Delivery.objects.get()
    Delivery.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(seconds=601))
    _request("ann@example.org", [daily], form_requester)
    assert Delivery.objects.count() == 2
    newest = Delivery.objects.order_by("-created_at")[0]
    assert newest.nonce != first.nonce
    assert Subscriber.objects.get().confirm_nonce == newest.nonce


def test_no_more_than_five_confirmations_go_out_in_a_day(daily, form_requester, settings):
    settings.REEX_CONFIRMATION_COOLDOWN_SECONDS = 0
    subscriber = SubscriptionFactory.create(mailing_list=daily).subscriber
    for hours in (20, 16, 12, 8, 4):
        DeliveryFactory.create(
            subscriber=subscriber, created_at=timezone.now() - timedelta(hours=hours)
        )
    _request(subscriber.email, [daily], form_requester)
    assert Delivery.objects.count() == 5


def test_the_daily_cap_forgets_mail_older_than_a_day(daily, form_requester, settings):
    settings.REEX_CONFIRMATION_COOLDOWN_SECONDS = 0
    subscriber = SubscriptionFactory.create(mailing_list=daily).subscriber
    for hours in (25, 16, 12, 8, 4):
        DeliveryFactory.create(
            subscriber=subscriber, created_at=timezone.now() - timedelta(hours=hours)
        )
    _request(subscriber.email, [daily], form_requester)
    assert Delivery.objects.count() == 6


def test_a_confirmed_address_joining_another_list_gets_a_confirmation(
    daily, weekly, form_requester
):
    subscription = SubscriptionFactory.create(status=Status.CONFIRMED, mailing_list=daily)
    _request(subscription.subscriber.email, [daily, weekly], form_requester)
    statuses = dict(Subscription.objects.values_list("mailing_list__slug", "status"))
    assert statuses == {"daily": Status.CONFIRMED, "weekly": Status.PENDING}
    assert Delivery.objects.get().mailing_list == weekly
