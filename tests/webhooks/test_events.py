"""The events services owe: held, approved, reported comments; confirmed subscriptions."""

import json

import pytest

from comments import services
from comments.models import Comment
from reex import tasks
from reex.models import WebhookDelivery
from subscriptions import services as subscription_services
from subscriptions import tokens
from tests.factories import (
    ArticleFactory,
    CommentFactory,
    MailingListFactory,
    SubscriberFactory,
    make_moderator,
)

pytestmark = pytest.mark.django_db
Status = Comment.Status


@pytest.fixture(autouse=True)
def _nothing_queued(mocker):
    mocker.patch("comments.tasks.send_notification.delay")
    mocker.patch("comments.tasks.moderate_comment.delay")
    mocker.patch("subscriptions.tasks.send_deliveries.delay")
    return mocker.patch.object(tasks.deliver_webhook, "delay")


def _payloads(event: str) -> dict[str, dict]:
    rows = WebhookDelivery.objects.filter(event=event)
    return {row.target: row.payload for row in rows}


def _held_comment(settings, **fields) -> Comment:
    settings.REEX_MODERATION_MODE = "all"
    article = ArticleFactory.create(key="rare-earths", title="Rare <earths> & co")
    comment = CommentFactory.create(
        article=article, author_name="Ann", author_email="ann@example.org", **fields
    )
    services.comment_moderate(comment_id=comment.pk)
    comment.refresh_from_db()
    assert comment.status == Status.PENDING and comment.checked_at is not None
    return comment


def test_a_held_comment_goes_to_the_webhook_and_slack(webhook, settings):
    comment = _held_comment(settings, body="Is neodymium <really> scarce?")

    payloads = _payloads("comment.held")

    assert set(payloads) == {"webhook", "slack"}
    data = payloads["webhook"]
    assert data["comment"]["id"] == comment.pk
    assert data["comment"]["status"] == "pending"
    assert data["comment"]["body"] == "Is neodymium <really> scarce?"
    assert data["comment"]["admin_url"].endswith(f"/admin/comments/comment/{comment.pk}/change/")
    assert data["article"] == {
        "key": "rare-earths",
        "title": "Rare <earths> & co",
        "url": comment.article.url,
    }


def test_the_slack_message_has_text_and_blocks_with_the_excerpt_and_an_admin_link(
    webhook, settings
):
    comment = _held_comment(settings, body="Is neodymium <really> scarce? " + "x" * 600)

    message = _payloads("comment.held")["slack"]

    assert message["text"] == "Comment held for moderation on “Rare &lt;earths&gt; &amp; co” by Ann"
    blocks = message["blocks"]
    assert [block["type"] for block in blocks] == ["section", "section", "context", "actions"]
    assert all(b["text"]["type"] == "mrkdwn" for b in blocks if b["type"] == "section")
    excerpt = blocks[1]["text"]["text"]
    assert excerpt.startswith("*Ann*\n>Is neodymium &lt;really&gt; scarce?")
    assert excerpt.endswith("…") and len(excerpt) < 600
    assert "Held:" in blocks[2]["elements"][0]["text"]
    [button] = blocks[3]["elements"]
    assert button["type"] == "button" and button["text"]["type"] == "plain_text"
    assert button["url"] == f"http://testserver/admin/comments/comment/{comment.pk}/change/"
    assert (
        f"<http://testserver/articles/rare-earths/#comment-{comment.pk}|"
        in blocks[0]["text"]["text"]
    )


def test_comment_events_carry_no_email_or_ip_address(webhook, settings):
    _held_comment(settings)
    for row in WebhookDelivery.objects.all():
        text = json.dumps(row.payload)
        assert "ann@example.org" not in text and "203.0.113.7" not in text


def test_an_approved_comment_goes_to_the_webhook_only(webhook, settings):
    comment = CommentFactory.create()
    services.comment_moderate(comment_id=comment.pk)
    assert set(_payloads("comment.approved")) == {"webhook"}
    assert _payloads("comment.approved")["webhook"]["comment"]["status"] == "approved"
    assert not WebhookDelivery.objects.filter(event="comment.held").exists()


def test_a_moderators_approval_goes_to_the_webhook(webhook, settings):
    comment = _held_comment(settings)
    services.comment_approve(comment=comment, actor=make_moderator(username="mod"))
    assert _payloads("comment.approved")["webhook"]["comment"]["id"] == comment.pk


def test_a_report_goes_to_the_webhook_and_slack(webhook):
    comment = CommentFactory.create(status=Status.APPROVED, author_name="Bob")

    services.comment_event_reported(comment, reports=3, reason="Off topic")

    payloads = _payloads("comment.reported")
    assert payloads["webhook"]["report"] == {"count": 3, "reason": "Off topic"}
    assert payloads["slack"]["text"].startswith("Comment reported by readers on")
    assert payloads["slack"]["blocks"][2]["elements"][0]["text"] == "Reported 3 times: Off topic"


def test_a_confirmed_subscription_goes_to_the_webhook_with_its_address(webhook):
    daily = MailingListFactory.create(slug="daily")
    subscriber = SubscriberFactory.create(email="reader@example.org", confirm_nonce="n1")
    subscriber.subscriptions.create(mailing_list=daily)
    token = tokens.confirmation_token_make(subscriber_id=subscriber.pk, nonce="n1")

    subscription_services.subscription_confirm(
        token=token, requester=subscription_services.Requester(source="api")
    )
    subscription_services.subscription_confirm(
        token=token, requester=subscription_services.Requester(source="api")
    )

    [row] = WebhookDelivery.objects.filter(event="subscription.confirmed")
    assert row.target == "webhook"
    assert row.payload["subscriber"] == {"id": subscriber.pk, "email": "reader@example.org"}
    assert row.payload["lists"] == ["daily"]


def test_without_receivers_no_event_is_owed(settings):
    settings.REEX_WEBHOOK_URL = settings.REEX_SLACK_WEBHOOK_URL = ""
    _held_comment(settings)
    assert not WebhookDelivery.objects.exists()


def test_a_readers_report_goes_to_the_webhook_with_the_count_so_far(webhook):
    comment = CommentFactory.create(status=Status.APPROVED, author_name="Bob")

    for n in range(2):
        services.flag_create(
            comment_id=comment.pk,
            reason="off-topic",
            detail="",
            reporter=f"reader-{n}",
            source=f"network-{n}",
        )

    reports = WebhookDelivery.objects.filter(event="comment.reported", target="webhook")
    counts = sorted(row.payload["report"]["count"] for row in reports)
    assert counts == [1, 2]
