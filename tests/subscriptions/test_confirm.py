import time
from http import HTTPStatus

import pytest
from django.urls import reverse

from subscriptions import consent, services, tokens
from subscriptions.models import ConsentEvent, Delivery, Subscription
from tests.subscriptions.factories import SubscriberFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
Status = Subscription.Status


@pytest.fixture
def pending(daily) -> Subscription:
    return SubscriptionFactory.create(mailing_list=daily)


def _token(subscription: Subscription) -> str:
    subscriber = subscription.subscriber
    return tokens.confirmation_token_make(
        subscriber_id=subscriber.pk, nonce=subscriber.confirm_nonce
    )


def _confirm(token: str):
    return services.subscription_confirm(token=token, requester=services.Requester(source="api"))


def test_confirming_confirms_the_pending_list_and_queues_a_welcome(pending):
    _confirm(_token(pending))
    pending.refresh_from_db()
    assert pending.status == Status.CONFIRMED
    assert pending.confirmed_at is not None
    welcome = Delivery.objects.get()
    assert (welcome.kind, welcome.mailing_list) == (Delivery.Kind.WELCOME, pending.mailing_list)
    assert ConsentEvent.objects.get().action == ConsentEvent.Action.CONFIRMED


def test_confirming_twice_changes_nothing_more(pending):
    token = _token(pending)
    _confirm(token)
    _confirm(token)
    assert Delivery.objects.count() == 1
    assert ConsentEvent.objects.count() == 1


def test_a_newer_confirmation_kills_the_older_link(pending, form_requester, settings):
    settings.REEX_CONFIRMATION_COOLDOWN_SECONDS = 0
    old = _token(pending)
    services.subscription_request(
        email=pending.subscriber.email,
        lists=[pending.mailing_list],
        consent=consent.CURRENT,
        requester=form_requester,
    )
    with pytest.raises(tokens.TokenExpired):
        _confirm(old)
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_confirming_does_not_resubscribe_a_list_left_since(pending, weekly):
    left = SubscriptionFactory.create(
        subscriber=pending.subscriber, mailing_list=weekly, status=Status.UNSUBSCRIBED
    )
    _confirm(_token(pending))
    left.refresh_from_db()
    assert left.status == Status.UNSUBSCRIBED


def test_a_suppressed_address_is_not_confirmed(pending):
    pending.subscriber.suppression = "complained"
    pending.subscriber.save()
    _confirm(_token(pending))
    pending.refresh_from_db()
    assert pending.status == Status.PENDING
    assert not Delivery.objects.exists()


def test_get_on_the_link_shows_a_button_and_confirms_nothing(client, pending):
    response = client.get(reverse("subscriptions:confirm", args=[_token(pending)]))
    assert response.status_code == HTTPStatus.OK
    assert b"Confirm my subscription" in response.content
    assert b'method="post"' in response.content
    pending.refresh_from_db()
    assert pending.status == Status.PENDING
    assert not Delivery.objects.exists()


def test_post_on_the_link_confirms_and_welcomes(client, pending):
    response = client.post(reverse("subscriptions:confirm", args=[_token(pending)]))
    assert response.status_code == HTTPStatus.OK
    assert b"Welcome aboard" in response.content
    pending.refresh_from_db()
    assert pending.status == Status.CONFIRMED
    assert ConsentEvent.objects.get().source == "form"


def test_a_tampered_link_shows_a_plain_400_page(client, pending):
    token = _token(pending)
    for method in (client.get, client.post):
        response = method(reverse("subscriptions:confirm", args=[token[:-3] + "zzz"]))
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert b"This link is not valid" in response.content


def test_a_link_to_a_deleted_subscriber_is_invalid(client, pending):
    token = _token(pending)
    pending.subscriber.delete()
    response = client.get(reverse("subscriptions:confirm", args=[token]))
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_an_expired_link_offers_a_new_one(client, pending, mocker, settings):
    token = _token(pending)
    mocker.patch("django.core.signing.time.time", return_value=time.time() + 73 * 3600)
    response = client.get(reverse("subscriptions:confirm", args=[token]))
    assert response.status_code == HTTPStatus.GONE
    assert b"Send me a new link" in response.content
    assert reverse("subscriptions:confirm_resend", args=[token]).encode() in response.content


def test_the_new_link_button_sends_a_fresh_confirmation(client, pending, mocker):
    token = _token(pending)
    mocker.patch("django.core.signing.time.time", return_value=time.time() + 73 * 3600)
    response = client.post(reverse("subscriptions:confirm_resend", args=[token]))
    assert response.status_code == HTTPStatus.OK
    delivery = Delivery.objects.get()
    assert delivery.kind == Delivery.Kind.CONFIRMATION
    pending.subscriber.refresh_from_db()
    assert delivery.nonce == pending.subscriber.confirm_nonce


def test_the_new_link_button_is_throttled_like_sign_ups(client, pending):
    url = reverse("subscriptions:confirm_resend", args=[_token(pending)])
    client.post(url)
    client.post(url)
    client.post(url)
    assert Delivery.objects.count() == 1


def test_the_new_link_button_refuses_a_tampered_token(client, pending):
    response = client.post(reverse("subscriptions:confirm_resend", args=["x:y:z"]))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not Delivery.objects.exists()


def test_a_confirmed_address_gets_no_new_link_from_the_button(client, daily):
    subscriber = SubscriberFactory.create()
    SubscriptionFactory.create(subscriber=subscriber, mailing_list=daily, status=Status.CONFIRMED)
    token = tokens.confirmation_token_make(subscriber_id=subscriber.pk, nonce="old")
    client.post(reverse("subscriptions:confirm_resend", args=[token]))
    assert not Delivery.objects.exists()
