"""Email header injection: newlines in names, titles and list names never add a header."""

from __future__ import annotations

from email import message_from_bytes
from email.message import Message
from http import HTTPStatus

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from rest_framework.test import APIClient

from comments.emails import held_comment_messages, reply_message
from comments.models import Article
from subscriptions import sending
from subscriptions.models import Delivery, MailingList, Subscription
from tests.factories import ApprovedCommentFactory, CommentFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

INJECTIONS = [
    "News\r\nBcc: victim@example.net",
    "News\nBcc: victim@example.net",
    "News\rBcc: victim@example.net",
    "News\r\n\r\n<html>forged body</html>",
    "News\u2028Bcc: victim@example.net",
    "News\x85Bcc: victim@example.net",
]
# Every header the project's emails carry; anything else was injected.
HEADERS = {
    "content-type", "mime-version", "content-transfer-encoding", "subject", "from", "to",
    "date", "message-id", "list-id", "list-unsubscribe", "list-unsubscribe-post",
}  # fmt: skip


def _wire(message: EmailMessage) -> Message:
    """Return the message as a mail server would read it."""
    return message_from_bytes(message.message().as_bytes())


def _injected(message: Message) -> list[str]:
    """Return headers that should not be there, or that an early blank line cut off."""
    problems = [name for name in message if name.lower() not in HEADERS]
    return problems + [name for name in ("Subject", "To", "From") if name not in message]


@pytest.mark.parametrize("value", INJECTIONS)
def test_a_commenter_name_with_a_newline_is_refused_on_the_field(
    article: Article, value: str
) -> None:
    response = APIClient().post(
        "/api/v1/articles/hostile/comments/",
        {"author_name": value, "author_email": "a@example.org", "body": "Hello there."},
        format="json",
    )

    if "\u2028" in value:  # a line separator is text in a name, not a header break
        assert response.status_code == HTTPStatus.ACCEPTED
    else:
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "author_name" in response.json()


@pytest.mark.parametrize("value", INJECTIONS)
def test_a_mailing_list_name_must_be_one_line(value: str) -> None:
    mailing_list = MailingList(slug="news", name=value)

    if "\u2028" in value:
        mailing_list.full_clean()
    else:
        with pytest.raises(ValidationError) as error:
            mailing_list.full_clean()
        assert "name" in error.value.message_dict


@pytest.mark.parametrize("value", INJECTIONS)
def test_a_list_name_already_stored_with_a_newline_adds_no_header(settings, value: str) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mailing_list = MailingList.objects.create(slug="news", name=value)  # e.g. an old row
    subscriber = SubscriberFactory.create()
    Subscription.objects.create(
        subscriber=subscriber, mailing_list=mailing_list, status=Subscription.Status.CONFIRMED
    )
    delivery = Delivery.objects.create(
        subscriber=subscriber, mailing_list=mailing_list, kind=Delivery.Kind.WELCOME
    )

    assert sending.deliveries_send(delivery_ids=[delivery.pk]) == 1
    wire = _wire(mail.outbox[0])
    assert _injected(wire) == []
    assert wire["To"] == subscriber.email
    assert "victim" not in wire["To"]


@pytest.mark.parametrize("value", INJECTIONS[:4])
def test_an_article_title_with_a_newline_adds_no_header_to_the_held_comment_email(
    moderator, value: str
) -> None:
    comment = CommentFactory.create(article__title=value)

    (message,) = held_comment_messages(comment)

    assert _injected(_wire(message)) == []


@pytest.mark.parametrize("value", INJECTIONS[:4])
def test_an_article_title_with_a_newline_adds_no_header_to_the_reply_email(value: str) -> None:
    parent = ApprovedCommentFactory.create(article__title=value, notify_replies=True)
    reply = ApprovedCommentFactory.create(article=parent.article, parent=parent)

    message = reply_message(reply)

    assert message is not None
    assert _injected(_wire(message)) == []


def test_the_held_comment_email_keeps_hostile_names_in_its_body(moderator) -> None:
    comment = CommentFactory.create(
        author_name="Ann Bcc: victim@example.net", body="Hi\r\nBcc: x@y.z"
    )

    (message,) = held_comment_messages(comment)

    wire = _wire(message)
    assert _injected(wire) == []
    assert wire["To"] == moderator.email
