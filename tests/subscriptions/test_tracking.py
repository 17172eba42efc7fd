import base64
import json
from http import HTTPStatus

import pytest
from django.urls import reverse
from kombu.exceptions import OperationalError

from subscriptions import consent, services, tasks
from subscriptions.models import ConsentEvent, Delivery, Subscriber, Suppression
from subscriptions.tracking import TrackingKind, tracking_event_record
from tests.subscriptions.factories import SubscriberFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
SECRET = "postmark:s3cret-webhook"


@pytest.fixture
def record(mocker):
    return mocker.patch("subscriptions.tasks.record_tracking_event.delay")


@pytest.fixture
def ann(daily) -> Subscriber:
    subscriber = SubscriberFactory.create(email="ann@example.org")
    SubscriptionFactory.create(subscriber=subscriber, mailing_list=daily, status="confirmed")
    return subscriber


@pytest.fixture
def webhook_secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def _post(client, payload, auth=SECRET):
    headers = {}
    if auth:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return client.post(
        reverse("subscriptions:anymail_postmark_tracking"),
        data=json.dumps(payload),
        content_type="application/json",
        **headers,
    )


def _bounce(type_: str, email="ann@example.org", id_=42) -> dict:
    # The shape Postmark documents for its bounce webhook.
    return {
        "RecordType": "Bounce",
        "ID": id_,
        "Type": type_,
        "TypeCode": 1,
        "Name": type_,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Description": "The server was unable to deliver your message",
        "Details": "smtp;550 5.1.1 user unknown",
        "Email": email,
        "BouncedAt": "2025-01-02T10:00:00Z",
        "Inactive": True,
    }


def test_a_hard_bounce_reaching_the_webhook_is_queued_by_subscriber_id(
    client, webhook_secret, record, ann
):
    response = _post(client, _bounce("HardBounce"))
    assert response.status_code == HTTPStatus.OK
    record.assert_called_once_with(
        ann.pk,
        TrackingKind.HARD_BOUNCE,
        "Postmark:42",
        "The server was unable to deliver your message",
    )


def test_the_webhook_finds_the_address_whatever_its_case(client, webhook_secret, record, ann):
    _post(client, _bounce("HardBounce", email="ANN@Example.org"))
    assert record.call_args.args[0] == ann.pk


def test_an_event_about_an_unknown_address_queues_nothing(client, webhook_secret, record, ann):
    response = _post(client, _bounce("HardBounce", email="nobody@example.org"))
    assert response.status_code == HTTPStatus.OK
    record.assert_not_called()


def test_with_the_broker_down_the_event_is_recorded_in_the_request(
    client, webhook_secret, record, ann
):
    record.side_effect = OperationalError("broker down")
    response = _post(client, _bounce("HardBounce"))
    assert response.status_code == HTTPStatus.OK
    assert _suppression(ann) == Suppression.BOUNCED
    assert ConsentEvent.objects.get().reference == "Postmark:42"


def test_a_soft_bounce_is_queued_as_soft(client, webhook_secret, record, ann):
    _post(client, _bounce("SoftBounce"))
    assert record.call_args.args[1] == TrackingKind.SOFT_BOUNCE


def test_a_spam_complaint_is_queued_as_a_complaint(client, webhook_secret, record, ann):
    payload = {**_bounce("SpamComplaint"), "RecordType": "SpamComplaint"}
    _post(client, payload)
    assert record.call_args.args[1] == TrackingKind.COMPLAINT


def test_an_open_is_ignored(client, webhook_secret, record):
    _post(client, {"RecordType": "Open", "Recipient": "ann@example.org", "MessageID": "x"})
    record.assert_not_called()


def test_the_webhook_refuses_a_wrong_secret(client, webhook_secret, record, ann):
    response = _post(client, _bounce("HardBounce"), auth="postmark:guess")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    record.assert_not_called()


def test_the_webhook_refuses_a_request_without_credentials(client, webhook_secret, record, ann):
    response = _post(client, _bounce("HardBounce"), auth="")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    record.assert_not_called()


def test_the_webhook_is_absent_until_a_secret_is_set(client, record, ann):
    response = _post(client, _bounce("HardBounce"))
    assert response.status_code == HTTPStatus.NOT_FOUND
    record.assert_not_called()


# --- the service the task calls -----------------------------------------------------


def _event(kind, subscriber, reference=""):
    tracking_event_record(subscriber_id=subscriber.pk, kind=kind, reference=reference)


def _suppression(subscriber: Subscriber) -> str:
    subscriber.refresh_from_db()
    return subscriber.suppression


def test_a_hard_bounce_suppresses_the_address(ann):
    _event(TrackingKind.HARD_BOUNCE, ann, reference="Postmark:1")
    assert _suppression(ann) == Suppression.BOUNCED
    event = ConsentEvent.objects.get()
    assert (event.action, event.source) == ("bounced", "webhook")


def test_a_complaint_suppresses_the_address(ann):
    _event(TrackingKind.COMPLAINT, ann)
    assert _suppression(ann) == Suppression.COMPLAINED
    assert ConsentEvent.objects.get().action == "complained"


def test_soft_bounces_up_to_the_limit_in_a_row_suppress(ann, settings):
    settings.REEX_SOFT_BOUNCE_LIMIT = 3
    _event(TrackingKind.SOFT_BOUNCE, ann, reference="Postmark:1")
    _event(TrackingKind.SOFT_BOUNCE, ann, reference="Postmark:2")
    assert _suppression(ann) == ""
    _event(TrackingKind.SOFT_BOUNCE, ann, reference="Postmark:3")
    assert _suppression(ann) == Suppression.BOUNCED


def test_a_delivery_between_soft_bounces_resets_the_count(ann, settings):
    settings.REEX_SOFT_BOUNCE_LIMIT = 3
    _event(TrackingKind.SOFT_BOUNCE, ann, reference="Postmark:1")
    _event(TrackingKind.SOFT_BOUNCE, ann, reference="Postmark:2")
    _event(TrackingKind.DELIVERED, ann)
    _event(TrackingKind.SOFT_BOUNCE, ann, reference="Postmark:3")
    assert _suppression(ann) == ""


def test_a_redelivered_webhook_event_counts_once(ann, settings):
    settings.REEX_SOFT_BOUNCE_LIMIT = 2
    _event(TrackingKind.SOFT_BOUNCE, ann, reference="Postmark:1")
    _event(TrackingKind.SOFT_BOUNCE, ann, reference="Postmark:1")
    assert _suppression(ann) == ""
    ann.refresh_from_db()
    assert ann.soft_bounces == 1


def test_an_event_for_a_subscriber_erased_since_is_ignored(ann):
    tracking_event_record(subscriber_id=ann.pk + 1, kind=TrackingKind.HARD_BOUNCE)
    assert _suppression(ann) == ""


def test_a_task_queued_by_the_old_code_with_the_address_still_applies(ann):
    tasks.record_tracking_event(ann.email.upper(), TrackingKind.HARD_BOUNCE)
    assert _suppression(ann) == Suppression.BOUNCED


def test_a_task_queued_with_an_unknown_address_does_nothing(ann):
    tasks.record_tracking_event("nobody@example.org", TrackingKind.HARD_BOUNCE)
    assert _suppression(ann) == ""


def test_a_suppressed_address_never_gets_another_confirmation(ann, daily, weekly):
    _event(TrackingKind.HARD_BOUNCE, ann)
    services.subscription_request(
        email="ann@example.org",
        lists=[weekly],
        consent=consent.CURRENT,
        requester=services.Requester(source="form"),
    )
    assert not Delivery.objects.exists()


def test_a_provider_unsubscribe_leaves_every_list(ann):
    _event(TrackingKind.UNSUBSCRIBED, ann)
    assert set(ann.subscriptions.values_list("status", flat=True)) == {"unsubscribed"}
