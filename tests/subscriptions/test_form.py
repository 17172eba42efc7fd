import time
from http import HTTPStatus

import pytest
from django.template import Context, RequestContext, Template
from django.test import Client, RequestFactory
from django.urls import reverse

from subscriptions import consent
from subscriptions.forms import form_timestamp
from subscriptions.models import ConsentEvent, Delivery, Subscription

pytestmark = pytest.mark.django_db
URL = "/subscribe/"


def _post(client, **fields):
    data = {"email": "ann@example.org", "consent": "on", "ts": form_timestamp(), **fields}
    return client.post(URL, data, REMOTE_ADDR="203.0.113.5", HTTP_USER_AGENT="Firefox")


def test_the_box_shows_the_consent_text_honeypot_timestamp_and_csrf(client, daily):
    response = client.get(URL)
    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert consent.CURRENT.text in content
    assert 'name="csrfmiddlewaretoken"' in content
    assert 'class="hp"' in content and 'name="website"' in content
    assert 'name="ts"' in content
    assert "Daily News Update" in content


def test_a_sign_up_redirects_to_check_your_inbox(client, daily):
    response = _post(client)
    assert response.status_code == HTTPStatus.FOUND
    assert response.headers["Location"] == reverse("subscriptions:subscribe_done")
    page = client.get(response.headers["Location"]).content.decode()
    assert "Check your inbox" in page
    assert "What happens next" in page
    assert Subscription.objects.get().status == "pending"
    assert Delivery.objects.count() == 1


def test_the_form_logs_ip_agent_and_consent_version(client, daily):
    _post(client)
    event = ConsentEvent.objects.get()
    assert (event.source, event.ip_address, event.user_agent) == ("form", "203.0.113.5", "Firefox")
    assert event.consent_version == consent.CURRENT.version


def test_the_form_keeps_the_csrf_check():
    client = Client(enforce_csrf_checks=True)
    response = _post(client)
    assert response.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": ""}, "email", "This field is required."),
        ({"email": "ann@"}, "email", "Enter a valid email address."),
        ({"consent": ""}, "consent", "Please tick the box to agree"),
    ],
)
def test_errors_are_shown_next_to_the_field(client, daily, fields, field, message):
    response = _post(client, **fields)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert message in response.content.decode()
    assert not Subscription.objects.exists()


def test_a_filled_honeypot_pretends_success_and_saves_nothing(client, daily):
    response = _post(client, website="http://spam.example")
    assert response.status_code == HTTPStatus.FOUND
    assert not ConsentEvent.objects.exists()


def test_a_form_sent_too_fast_is_refused(client, daily, settings):
    settings.REEX_FORM_MIN_SECONDS = 3
    response = _post(client)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "quicker than a person" in response.content.decode()
    assert not Subscription.objects.exists()


def test_a_form_sent_after_the_minimum_is_accepted(client, daily, settings, mocker):
    settings.REEX_FORM_MIN_SECONDS = 3
    stamp = form_timestamp()
    mocker.patch("subscriptions.forms.time.time", return_value=time.time() + 4)
    assert _post(client, ts=stamp).status_code == HTTPStatus.FOUND


def test_a_form_left_open_too_long_is_refused(client, daily, settings, mocker):
    settings.REEX_FORM_MAX_AGE_SECONDS = 60
    stamp = form_timestamp()
    mocker.patch("django.core.signing.time.time", return_value=time.time() + 61)
    response = _post(client, ts=stamp)
    assert "open too long" in response.content.decode()


def test_a_forged_timestamp_is_refused(client, daily):
    response = _post(client, ts=str(int(time.time()) - 60))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not Subscription.objects.exists()


def test_the_form_is_throttled_per_ip(client, daily, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK}
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"comment": None, "subscribe": "1/min"}
    _post(client)
    response = _post(client, email="bob@example.org")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(response.headers["Retry-After"]) > 0
    assert Subscription.objects.count() == 1


def test_a_second_list_is_offered_as_checkboxes(client, daily, weekly):
    response = _post(client, lists=["weekly"])
    assert response.status_code == HTTPStatus.FOUND
    assert Subscription.objects.get().mailing_list == weekly
    assert 'value="weekly"' in client.get(URL).content.decode()


def test_the_fragment_is_the_box_alone(client, daily):
    response = client.get(reverse("subscriptions:subscribe_box"))
    content = response.content.decode()
    assert "<html" not in content
    assert 'action="/subscribe/"' in content
    assert consent.CURRENT.text in content


def test_the_template_tag_includes_the_box_anywhere(daily):
    request = RequestFactory().get("/articles/welcome/")
    html = Template("{% load subscriptions %}{% subscribe_box %}").render(RequestContext(request))
    assert 'action="/subscribe/"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert Template("{% load subscriptions %}").render(Context()) == ""


def test_zero_max_age_disables_the_too_old_check(client, daily, settings):
    settings.REEX_FORM_MAX_AGE_SECONDS = 0

    response = _post(client)

    assert response.status_code == HTTPStatus.FOUND
