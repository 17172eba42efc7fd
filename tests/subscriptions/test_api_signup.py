"""The sign-up API's quick answer says exactly what DRF's own path says."""

from http import HTTPStatus

import pytest
from django.db import OperationalError
from rest_framework.test import APIClient

from privacy.hashing import email_hash
from privacy.models import SuppressedHash
from subscriptions import apis, services, signups
from subscriptions.models import ConsentEvent, Delivery, Subscriber, Subscription

pytestmark = pytest.mark.django_db
SUBSCRIBE = "/api/v1/subscriptions/"
# Headers that differ between any two answers whatever path made them.
PER_ANSWER = {"x-request-id"}


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def no_drf(monkeypatch):
    """Fail any request that reaches DRF's own request handling."""

    def refuse(self, request, *args, **kwargs):
        raise AssertionError("DRF's path answered")

    monkeypatch.setattr(apis.SubscribeApi, "initialize_request", refuse)


def _quick(api: APIClient, email: str, **body):
    return api.post(SUBSCRIBE, {"email": email, "consent": True, **body}, format="json")


def _through_drf(api: APIClient, email: str, **body):
    # "true" is a boolean to DRF's field; the quick path leaves anything but true to DRF.
    return api.post(SUBSCRIBE, {"email": email, "consent": "true", **body}, format="json")


def _same(one, other) -> None:
    assert one.status_code == other.status_code
    assert one.content == other.content
    headers = {k: v for k, v in one.headers.items() if k.lower() not in PER_ANSWER}
    assert headers == {k: v for k, v in other.headers.items() if k.lower() not in PER_ANSWER}


def test_a_plain_sign_up_is_answered_without_drfs_request(api, daily, no_drf):
    response = _quick(api, "ann@example.org")
    assert response.status_code == HTTPStatus.ACCEPTED
    assert Subscription.objects.get().mailing_list == daily
    assert ConsentEvent.objects.get().source == "api"
    assert Delivery.objects.count() == 1


def test_the_quick_answer_is_drfs_answer_byte_for_byte(api, daily):
    _same(_quick(api, "ann@example.org"), _through_drf(api, "bob@example.org"))
    assert Subscriber.objects.count() == 2


def test_an_existing_address_gets_the_same_answer_on_either_path(api, daily):
    _quick(api, "ann@example.org")
    _same(_quick(api, "ann@example.org"), _through_drf(api, "ann@example.org"))
    assert Subscriber.objects.count() == 1


def test_an_unknown_list_is_the_serializers_400_and_writes_nothing(api, daily, weekly):
    quick = _quick(api, "ann@example.org", lists=["weekly", "nope"])
    _same(quick, _through_drf(api, "ann@example.org", lists=["weekly", "nope"]))
    assert quick.json() == {"lists": ["Unknown list: nope."]}
    assert not Subscriber.objects.exists()
    assert not ConsentEvent.objects.exists()


def test_a_private_list_is_unknown_on_the_quick_path(api, daily, weekly):
    weekly.is_public = False
    weekly.save()
    response = _quick(api, "ann@example.org", lists=["weekly"])
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not Subscriber.objects.exists()


def test_without_a_default_list_it_is_the_serializers_400(api, daily):
    Subscription.objects.all().delete()
    daily.delete()
    quick = _quick(api, "ann@example.org")
    _same(quick, _through_drf(api, "ann@example.org"))
    assert quick.json() == {"lists": ["There is no default list."]}


def test_it_signs_up_for_the_lists_named_in_their_order(api, daily, weekly):
    _quick(api, "ann@example.org", lists=["weekly", "daily", "weekly"])
    lists = list(Subscription.objects.order_by("id").values_list("mailing_list__slug", flat=True))
    assert lists == ["weekly", "daily"]
    assert Delivery.objects.get().mailing_list == weekly


def test_the_429_is_drfs_429(api, daily, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"comment": None, "subscribe": "1/min"}
    assert _quick(api, "a@example.org").status_code == HTTPStatus.ACCEPTED
    quick, drf = _quick(api, "b@example.org"), _through_drf(api, "c@example.org")
    assert quick.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert quick.json()["detail"].startswith("Request was throttled.")
    assert set(quick.headers) == set(drf.headers)
    assert int(quick.headers["Retry-After"]) > 0
    assert Subscriber.objects.count() == 1


def test_a_refused_list_counts_once_against_the_rate(api, daily, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"comment": None, "subscribe": "2/min"}
    assert _quick(api, "a@example.org", lists=["nope"]).status_code == HTTPStatus.BAD_REQUEST
    assert _quick(api, "b@example.org").status_code == HTTPStatus.ACCEPTED
    assert _quick(api, "c@example.org").status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_a_database_outage_is_drfs_503(api, daily, monkeypatch):
    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(signups, "subscription_request_by_slugs", down)
    monkeypatch.setattr(services, "subscription_request", down)
    quick = _quick(api, "ann@example.org")
    _same(quick, _through_drf(api, "ann@example.org"))
    assert quick.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert quick.headers["Retry-After"]


BODY = b'{"email": "ann@example.org", "consent": true}'


def test_a_client_that_takes_no_json_gets_drfs_406(api, daily):
    response = api.generic("POST", SUBSCRIBE, BODY, "application/json", HTTP_ACCEPT="text/html")
    assert response.status_code == HTTPStatus.NOT_ACCEPTABLE
    assert not Subscriber.objects.exists()


def test_another_charset_is_left_to_drfs_parser(api, daily):
    response = api.generic("POST", SUBSCRIBE, BODY, "application/json; charset=latin-1")
    assert response.status_code == HTTPStatus.ACCEPTED
    assert Subscriber.objects.get().email == "ann@example.org"


def test_a_body_with_nan_gets_drfs_parse_error(api, daily):
    body = b'{"email": "ann@example.org", "consent": true, "x": NaN}'
    response = api.generic("POST", SUBSCRIBE, body, "application/json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "JSON parse error" in response.json()["detail"]


def test_an_erased_bounced_address_comes_back_suppressed_with_the_same_answer(api, daily):
    SuppressedHash.objects.create(email_hash=email_hash("ann@example.org"), reason="bounced")
    _same(_quick(api, "Ann@Example.org"), _quick(api, "bob@example.org"))
    ann = Subscriber.objects.get(email="ann@example.org")
    assert (ann.suppression, ann.suppressed_at is not None) == ("bounced", True)
    assert not ann.subscriptions.exists()
    assert not Delivery.objects.filter(subscriber=ann).exists()
    assert ann.consent_events.get().action == ConsentEvent.Action.REQUESTED
