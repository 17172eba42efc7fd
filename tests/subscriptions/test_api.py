from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from subscriptions import tokens
from subscriptions.models import ConsentEvent, Delivery, Subscription
from tests.subscriptions.factories import SubscriberFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
Status = Subscription.Status
SUBSCRIBE = "/api/v1/subscriptions/"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def _subscribe(api, **body):
    return api.post(SUBSCRIBE, {"consent": True, **body}, format="json")


def _state(name: str, daily) -> str:
    email = f"{name}@example.org"
    if name == "pending":
        SubscriptionFactory.create(subscriber__email=email, mailing_list=daily)
    elif name in ("confirmed", "unsubscribed"):
        SubscriptionFactory.create(subscriber__email=email, mailing_list=daily, status=name)
    elif name == "suppressed":
        SubscriberFactory.create(email=email, suppression="complained")
    return email


def test_the_five_states_share_one_status_and_body(api, daily):
    responses = [
        _subscribe(api, email=_state(state, daily))
        for state in ("new", "pending", "confirmed", "unsubscribed", "suppressed")
    ]
    assert {r.status_code for r in responses} == {HTTPStatus.ACCEPTED}
    assert len({r.content for r in responses}) == 1
    assert "detail" in responses[0].json()


def test_a_sign_up_over_the_api_defaults_to_daily_and_logs_the_api(api, daily):
    _subscribe(api, email="ann@example.org")
    assert Subscription.objects.get().mailing_list == daily
    assert ConsentEvent.objects.get().source == "api"
    assert Delivery.objects.count() == 1


def test_it_signs_up_for_the_lists_named(api, daily, weekly):
    _subscribe(api, email="ann@example.org", lists=["weekly"])
    assert Subscription.objects.get().mailing_list == weekly


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address", "consent": True}, "email"),
        ({"consent": True}, "email"),
        ({"email": "ann@example.org"}, "consent"),
        ({"email": "ann@example.org", "consent": False}, "consent"),
        ({"email": "ann@example.org", "consent": True, "lists": ["nope"]}, "lists"),
        ({"email": "ann@example.org", "consent": True, "lists": []}, "lists"),
    ],
)
def test_bad_input_gets_a_400_naming_the_field(api, daily, body, field):
    response = api.post(SUBSCRIBE, body, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()
    assert not Subscription.objects.exists()


def test_a_private_list_is_unknown_to_the_api(api, daily, weekly):
    weekly.is_public = False
    weekly.save()
    response = _subscribe(api, email="ann@example.org", lists=["weekly"])
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_it_answers_429_with_retry_after_past_the_rate(api, daily, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"comment": None, "subscribe": "2/min"}
    for n in range(2):
        assert _subscribe(api, email=f"a{n}@example.org").status_code == HTTPStatus.ACCEPTED
    response = _subscribe(api, email="a3@example.org")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(response.headers["Retry-After"]) > 0


def test_the_rate_is_per_client_ip(api, daily, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"comment": None, "subscribe": "1/min"}
    api.post(SUBSCRIBE, {"email": "a@example.org", "consent": True}, format="json")
    other = api.post(
        SUBSCRIBE,
        {"email": "b@example.org", "consent": True},
        format="json",
        REMOTE_ADDR="198.51.100.9",
    )
    assert other.status_code == HTTPStatus.ACCEPTED


def test_a_forwarded_for_header_from_a_stranger_does_not_dodge_the_rate(api, daily, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"comment": None, "subscribe": "1/min"}
    api.post(SUBSCRIBE, {"email": "a@example.org", "consent": True}, format="json")
    response = api.post(
        SUBSCRIBE,
        {"email": "b@example.org", "consent": True},
        format="json",
        HTTP_X_FORWARDED_FOR="198.51.100.9",
    )
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


# --- confirm and unsubscribe --------------------------------------------------------


def _confirm_token(subscription: Subscription) -> str:
    subscriber = subscription.subscriber
    return tokens.confirmation_token_make(
        subscriber_id=subscriber.pk, nonce=subscriber.confirm_nonce
    )


def test_confirming_over_the_api_answers_confirmed(api, daily):
    subscription = SubscriptionFactory.create(mailing_list=daily)
    token = _confirm_token(subscription)
    response = api.post("/api/v1/subscriptions/confirm/", {"token": token}, format="json")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "confirmed"}
    subscription.refresh_from_db()
    assert subscription.status == Status.CONFIRMED


def test_an_invalid_token_is_a_400(api, daily):
    response = api.post("/api/v1/subscriptions/confirm/", {"token": "abc"}, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "token" in response.json()


def test_a_missing_token_is_a_400(api, daily):
    response = api.post("/api/v1/subscriptions/confirm/", {}, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_an_expired_token_is_a_410(api, daily, settings):
    settings.REEX_CONFIRMATION_MAX_AGE_HOURS = 0
    subscription = SubscriptionFactory.create(mailing_list=daily)
    token = _confirm_token(subscription)
    response = api.post("/api/v1/subscriptions/confirm/", {"token": token}, format="json")
    assert response.status_code == HTTPStatus.GONE


def test_unsubscribing_over_the_api(api, daily):
    subscription = SubscriptionFactory.create(mailing_list=daily, status=Status.CONFIRMED)
    token = tokens.unsubscribe_token_make(
        subscriber_id=subscription.subscriber_id, list_id=daily.pk
    )
    response = api.post("/api/v1/subscriptions/unsubscribe/", {"token": token}, format="json")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "unsubscribed"}
    subscription.refresh_from_db()
    assert subscription.status == Status.UNSUBSCRIBED


def test_unsubscribing_with_a_bad_token_is_a_400(api, daily):
    response = api.post("/api/v1/subscriptions/unsubscribe/", {"token": "x"}, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST


# --- lists and subscribers ----------------------------------------------------------


def test_the_public_lists_are_listed_with_slug_and_name(api, daily, weekly):
    weekly.is_public = False
    weekly.save()
    response = api.get("/api/v1/lists/")
    assert response.json() == [{"slug": "daily", "name": "Daily News Update"}]


@pytest.fixture
def integration(db) -> APIClient:
    user = User.objects.create_user("crm")
    user.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_subscribers_need_a_token(api, daily):
    response = api.get("/api/v1/subscribers/?list=daily")
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_subscribers_need_the_view_permission(api, daily):
    user = User.objects.create_user("nobody")
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert api.get("/api/v1/subscribers/?list=daily").status_code == HTTPStatus.FORBIDDEN


def test_subscribers_of_a_list_with_their_status_and_dates(integration, daily, weekly):
    confirmed = SubscriptionFactory.create(
        mailing_list=daily, status=Status.CONFIRMED, subscriber__email="c@example.org"
    )
    SubscriptionFactory.create(mailing_list=daily, subscriber__email="p@example.org")
    SubscriptionFactory.create(mailing_list=weekly, status=Status.CONFIRMED)
    response = integration.get("/api/v1/subscribers/?list=daily&status=confirmed")
    assert response.status_code == HTTPStatus.OK
    results = response.json()["results"]
    assert [r["email"] for r in results] == ["c@example.org"]
    assert results[0]["status"] == "confirmed"
    assert results[0]["suppressed"] is False
    assert set(results[0]) >= {"signed_up_at", "confirmed_at"}
    assert confirmed.pk


def test_confirmed_subscribers_leave_out_suppressed_addresses(integration, daily):
    SubscriptionFactory.create(
        mailing_list=daily, status=Status.CONFIRMED, subscriber__suppression="bounced"
    )
    response = integration.get("/api/v1/subscribers/?list=daily&status=confirmed")
    assert response.json()["results"] == []


def test_subscribers_are_cursor_paginated(integration, daily):
    for n in range(3):
        SubscriptionFactory.create(mailing_list=daily, subscriber__email=f"s{n}@example.org")
    first = integration.get("/api/v1/subscribers/?list=daily&page_size=2").json()
    assert len(first["results"]) == 2
    assert "cursor=" in first["next"]
    second = integration.get(first["next"]).json()
    assert [r["email"] for r in second["results"]] == ["s2@example.org"]


def test_a_bad_cursor_is_a_documented_404(integration, api, daily):
    response = integration.get("/api/v1/subscribers/?list=daily&cursor=website")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["detail"] == "Invalid cursor"
    schema = api.get(reverse("schema"), HTTP_ACCEPT="application/json").json()
    assert "404" in schema["paths"]["/api/v1/subscribers/"]["get"]["responses"]


@pytest.mark.parametrize("query", ["", "?list=nope", "?list=daily&status=maybe"])
def test_a_bad_subscribers_query_is_a_400(integration, daily, query):
    response = integration.get(f"/api/v1/subscribers/{query}")
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_the_endpoints_are_in_the_openapi_schema(api, db):
    schema = api.get(reverse("schema"), HTTP_ACCEPT="application/json").content.decode()
    for path in (
        "/api/v1/subscriptions/",
        "/api/v1/subscriptions/confirm/",
        "/api/v1/subscriptions/unsubscribe/",
        "/api/v1/lists/",
        "/api/v1/subscribers/",
    ):
        assert path in schema


def test_the_schema_builds_without_warnings(db, tmp_path):
    # Two serializers with one component name would make a wrong schema (W001).
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
