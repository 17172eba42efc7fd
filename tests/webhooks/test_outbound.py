"""Outbound webhooks against a loopback receiver: signature, retries with backoff, the sweep."""

import hashlib
import hmac
import json
import subprocess
import sys
import time
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from reex import outbound, tasks
from reex.models import WebhookDelivery
from tests.webhooks.conftest import SECRET

pytestmark = pytest.mark.django_db
DATA = {"comment": {"id": 7, "author_name": "Ann"}}


def _owed(capture, *, slack=None) -> list[WebhookDelivery]:
    with capture(execute=True):
        outbound.webhook_event(event="comment.held", subject="comment:7", data=DATA, slack=slack)
    return list(WebhookDelivery.objects.order_by("id"))


@pytest.fixture
def delivered_now(mocker):
    """Run the task in-process (with its retries) when it is queued after commit."""
    return mocker.patch.object(
        tasks.deliver_webhook,
        "delay",
        side_effect=lambda *args: tasks.deliver_webhook.apply(args=args),
    )


def test_an_event_is_posted_as_signed_json(
    webhook, delivered_now, django_capture_on_commit_callbacks
):
    [delivery] = _owed(django_capture_on_commit_callbacks)

    [request] = webhook.requests
    assert request.path == "/hooks/reex"
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Reex-Signature"] == f"sha256={expected}"
    body = json.loads(request.body)
    assert body["event"] == "comment.held" and body["data"] == DATA
    assert body["id"] == request.headers["X-Reex-Delivery"] == str(delivery.uuid)
    assert str(body["timestamp"]) == request.headers["X-Reex-Timestamp"]
    assert abs(body["timestamp"] - time.time()) < 60
    assert request.headers["X-Reex-Event"] == "comment.held"
    assert request.headers["Content-Type"] == "application/json"
    delivery.refresh_from_db()
    assert delivery.sent_at is not None and delivery.attempts == 1


def test_the_documented_verification_accepts_it_and_refuses_a_forgery(
    webhook, delivered_now, django_capture_on_commit_callbacks
):
    _owed(django_capture_on_commit_callbacks)
    [request] = webhook.requests
    header = request.headers["X-Reex-Signature"]
    assert outbound.webhook_signature_valid(secret=SECRET, body=request.body, header=header)
    forged = request.body.replace(b"Ann", b"Eve")
    assert not outbound.webhook_signature_valid(secret=SECRET, body=forged, header=header)
    assert not outbound.webhook_signature_valid(secret="other", body=request.body, header=header)


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(
    webhook, delivered_now, mocker, django_capture_on_commit_callbacks
):
    webhook.statuses = [HTTPStatus.INTERNAL_SERVER_ERROR] * 2 + [HTTPStatus.OK]
    retry = mocker.spy(tasks.deliver_webhook, "retry")

    [delivery] = _owed(django_capture_on_commit_callbacks)

    assert len(webhook.requests) == 3
    countdowns = [call.kwargs["countdown"] for call in retry.call_args_list]
    assert len(countdowns) == 2
    assert 60 <= countdowns[0] <= 66 and 120 <= countdowns[1] <= 132  # doubling
    # Every attempt is signed afresh, with the same event id.
    for request in webhook.requests:
        assert outbound.webhook_signature_valid(
            secret=SECRET, body=request.body, header=request.headers["X-Reex-Signature"]
        )
    assert len({json.loads(r.body)["id"] for r in webhook.requests}) == 1
    delivery.refresh_from_db()
    assert delivery.sent_at is not None and delivery.attempts == 3 and delivery.last_error == ""


def test_a_failure_is_kept_and_released_for_the_retry(
    webhook, mocker, django_capture_on_commit_callbacks
):
    webhook.statuses = [HTTPStatus.INTERNAL_SERVER_ERROR]
    mocker.patch.object(tasks.deliver_webhook, "delay")
    [delivery] = _owed(django_capture_on_commit_callbacks)

    with pytest.raises(outbound.WebhookFailed):
        outbound.webhook_deliver(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.sent_at is None and delivery.claimed_at is None
    assert delivery.last_error.startswith("HTTP 500")


def test_a_sent_event_is_not_sent_again(webhook, delivered_now, django_capture_on_commit_callbacks):
    [delivery] = _owed(django_capture_on_commit_callbacks)
    assert not outbound.webhook_deliver(delivery_id=delivery.pk)
    assert len(webhook.requests) == 1


def test_slack_gets_its_message_as_is_without_signature(
    webhook, delivered_now, django_capture_on_commit_callbacks
):
    message = {
        "text": "held",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
    }
    _owed(django_capture_on_commit_callbacks, slack=message)
    slack = next(r for r in webhook.requests if r.path.startswith("/slack/"))
    assert json.loads(slack.body) == message
    assert "X-Reex-Signature" not in slack.headers
    assert {r.path for r in webhook.requests} == {"/hooks/reex", "/slack/T000/B000/XXX"}


def test_nothing_is_owed_without_a_receiver(settings, django_capture_on_commit_callbacks):
    settings.REEX_WEBHOOK_URL = settings.REEX_SLACK_WEBHOOK_URL = ""
    assert _owed(django_capture_on_commit_callbacks, slack={"text": "x"}) == []


def test_the_task_is_queued_only_after_commit(webhook, mocker, django_capture_on_commit_callbacks):
    delay = mocker.patch.object(tasks.deliver_webhook, "delay")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outbound.webhook_event(event="comment.approved", subject="comment:7", data=DATA)
    delay.assert_not_called()
    for callback in callbacks:
        callback()
    delay.assert_called_once_with(WebhookDelivery.objects.get().pk)


def test_an_event_the_broker_refused_is_sent_by_the_sweep(
    webhook, mocker, django_capture_on_commit_callbacks
):
    mocker.patch.object(tasks.deliver_webhook, "delay", side_effect=OperationalError("refused"))
    [delivery] = _owed(django_capture_on_commit_callbacks)
    assert webhook.requests == []
    mocker.patch.object(
        tasks.deliver_webhook, "delay", side_effect=lambda *a: tasks.deliver_webhook.apply(args=a)
    )

    assert outbound.webhooks_requeue() == 0  # still within the enqueue's grace
    assert outbound.webhooks_requeue(now=timezone.now() + timedelta(minutes=3)) == 1

    assert len(webhook.requests) == 1
    delivery.refresh_from_db()
    assert delivery.sent_at is not None


def test_the_sweep_retakes_events_whose_retries_ran_out_and_gives_up_after_three_days(
    webhook, mocker
):
    delay = mocker.patch.object(tasks.deliver_webhook, "delay")
    now = timezone.now()
    given_up = WebhookDelivery.objects.create(
        event="comment.held",
        target="webhook",
        payload=DATA,
        attempts=13,
        created_at=now - timedelta(hours=8),
        attempted_at=now - timedelta(hours=7),
    )
    WebhookDelivery.objects.create(
        event="comment.held",
        target="webhook",
        payload=DATA,
        created_at=now - timedelta(days=4),
        attempted_at=now - timedelta(days=3, hours=23),
    )
    assert outbound.webhooks_requeue(now=now) == 1
    delay.assert_called_once_with(given_up.pk)


def test_the_task_retries_with_backoff_on_the_email_queue():
    task: Any = tasks.deliver_webhook
    assert task.queue == "email" and task.acks_late and task.max_retries >= 10
    for n in range(task.max_retries):
        floor = min(tasks.WEBHOOK_RETRY_BASE * 2**n, tasks.WEBHOOK_RETRY_MAX)
        assert floor <= tasks.webhook_retry_countdown(n) <= floor * 1.1  # doubling, capped


def test_beat_runs_the_sweep(settings):
    assert settings.CELERY_BEAT_SCHEDULE["webhooks-requeue"]["task"] == tasks.requeue_webhooks.name


def test_a_webhook_url_without_a_secret_stops_the_start_up():
    env = {"SECRET_KEY": "x", "REEX_WEBHOOK_URL": "https://example.org/hook", "PATH": ""}
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='reex.settings'; django.setup()"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "REEX_WEBHOOK_SECRET" in result.stderr
