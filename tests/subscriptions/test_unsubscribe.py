from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from subscriptions import tokens
from subscriptions.models import ConsentEvent, Subscription
from tests.subscriptions.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db
Status = Subscription.Status


@pytest.fixture
def csrf_client() -> Client:
    # A mail provider's one-click POST: CSRF enforced, no cookie, no login.
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def confirmed(daily) -> Subscription:
    return SubscriptionFactory.create(mailing_list=daily, status=Status.CONFIRMED)


def _url(subscription: Subscription) -> str:
    token = tokens.unsubscribe_token_make(
        subscriber_id=subscription.subscriber_id, list_id=subscription.mailing_list_id
    )
    return reverse("subscriptions:unsubscribe", args=[token])


def _status(subscription: Subscription) -> str:
    subscription.refresh_from_db()
    return subscription.status


def test_a_one_click_form_encoded_post_unsubscribes_at_once(csrf_client, confirmed):
    response = csrf_client.post(
        _url(confirmed),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == HTTPStatus.OK
    assert _status(confirmed) == Status.UNSUBSCRIBED
    event = ConsentEvent.objects.get()
    assert (event.action, event.source) == ("unsubscribed", "email")


def test_a_one_click_multipart_post_unsubscribes_at_once(csrf_client, confirmed):
    response = csrf_client.post(_url(confirmed), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == HTTPStatus.OK
    assert _status(confirmed) == Status.UNSUBSCRIBED


def test_a_one_click_post_is_answered_without_a_redirect_or_cookie(csrf_client, confirmed):
    response = csrf_client.post(_url(confirmed), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == HTTPStatus.OK
    assert "Location" not in response.headers
    assert not response.cookies


def test_a_one_click_post_gets_a_short_plain_answer_in_two_statements(
    csrf_client, confirmed, django_assert_max_num_queries
):
    # The UPDATE and the consent record, in a transaction (whose savepoint counts here).
    with django_assert_max_num_queries(4):
        response = csrf_client.post(_url(confirmed), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert _status(confirmed) == Status.UNSUBSCRIBED


def test_the_page_button_shows_the_lists_left(csrf_client, confirmed, weekly):
    SubscriptionFactory.create(
        subscriber=confirmed.subscriber, mailing_list=weekly, status=Status.CONFIRMED
    )
    response = csrf_client.post(_url(confirmed), data={"via": "page"})
    content = response.content.decode()
    assert "You are unsubscribed" in content
    assert "Weekly Digest" in content
    assert _status(confirmed) == Status.UNSUBSCRIBED


def test_unsubscribing_twice_is_harmless(csrf_client, confirmed):
    csrf_client.post(_url(confirmed), data={"List-Unsubscribe": "One-Click"})
    response = csrf_client.post(_url(confirmed), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == HTTPStatus.OK
    assert ConsentEvent.objects.count() == 1


def test_it_leaves_only_the_list_of_the_link(csrf_client, confirmed, weekly):
    other = SubscriptionFactory.create(
        subscriber=confirmed.subscriber, mailing_list=weekly, status=Status.CONFIRMED
    )
    csrf_client.post(_url(confirmed), data={"List-Unsubscribe": "One-Click"})
    assert _status(other) == Status.CONFIRMED


def test_get_shows_a_button_and_the_other_lists_and_changes_nothing(client, confirmed, weekly):
    SubscriptionFactory.create(
        subscriber=confirmed.subscriber, mailing_list=weekly, status=Status.CONFIRMED
    )
    response = client.get(_url(confirmed))
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "Daily News Update" in content
    assert "Weekly Digest" in content
    assert "Unsubscribe from all lists" in content
    assert _status(confirmed) == Status.CONFIRMED


def test_the_leave_all_button_leaves_every_list(csrf_client, confirmed, weekly):
    other = SubscriptionFactory.create(
        subscriber=confirmed.subscriber, mailing_list=weekly, status=Status.CONFIRMED
    )
    csrf_client.post(_url(confirmed), data={"via": "page", "all": "1"})
    assert (_status(confirmed), _status(other)) == (Status.UNSUBSCRIBED, Status.UNSUBSCRIBED)
    assert set(ConsentEvent.objects.values_list("source", flat=True)) == {"form"}


def test_a_tampered_link_is_a_plain_400(csrf_client, confirmed):
    url = _url(confirmed)[:-4] + "xx/"
    assert csrf_client.get(url).status_code == HTTPStatus.BAD_REQUEST
    assert csrf_client.post(url).status_code == HTTPStatus.BAD_REQUEST
    assert _status(confirmed) == Status.CONFIRMED


def test_a_link_of_a_deleted_address_is_a_400(csrf_client, confirmed):
    url = _url(confirmed)
    confirmed.subscriber.delete()
    assert csrf_client.post(url).status_code == HTTPStatus.BAD_REQUEST
    one_click = csrf_client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == HTTPStatus.BAD_REQUEST
    assert not ConsentEvent.objects.exists()


@pytest.mark.postgres_only(reason="the one-statement unsubscribe is PostgreSQL's")
def test_a_one_click_post_is_one_statement_on_postgresql(
    csrf_client, confirmed, django_assert_num_queries
):
    with django_assert_num_queries(1):
        csrf_client.post(_url(confirmed), data={"List-Unsubscribe": "One-Click"})
    assert _status(confirmed) == Status.UNSUBSCRIBED
    event = ConsentEvent.objects.get()
    assert (event.subscriber_id, event.mailing_list_id) == (
        confirmed.subscriber_id,
        confirmed.mailing_list_id,
    )
    assert (event.action, event.source, event.ip_address) == ("unsubscribed", "email", "127.0.0.1")


def test_a_link_to_a_list_the_address_never_joined_changes_nothing(csrf_client, confirmed, weekly):
    token = tokens.unsubscribe_token_make(subscriber_id=confirmed.subscriber_id, list_id=weekly.pk)
    url = reverse("subscriptions:unsubscribe", args=[token])
    response = csrf_client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == HTTPStatus.OK
    assert _status(confirmed) == Status.CONFIRMED
    assert not ConsentEvent.objects.exists()
