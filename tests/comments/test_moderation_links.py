"""Approve, Spam and Trash from the held-comment email: signed, single-use, expiring."""

import re
import time
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.utils import timezone

from comments.models import Comment, ModerationEvent, ModerationLinkUse, Notification
from comments.services import comment_approve, notification_send
from comments.tokens import moderation_token_make
from tests.factories import CommentFactory, UserFactory, make_moderator

pytestmark = pytest.mark.django_db
Status = Comment.Status
LINK = re.compile(r"^(Approve|Spam|Trash): (http://testserver(/comments/moderate/\S+/))$", re.M)


@pytest.fixture
def held_comment() -> Comment:
    return CommentFactory.create(checked_at=timezone.now(), body_html="<p>Is this ok?</p>")


def links_in(body: str) -> dict[str, str]:
    return {label.lower(): path for label, _, path in LINK.findall(body)}


def path(comment: Comment, user, action: str = "approve") -> str:
    token = moderation_token_make(comment_id=comment.pk, user_id=user.pk, action=action)
    return f"/comments/moderate/{token}/"


def test_each_moderators_email_has_their_own_three_links(mailoutbox, held_comment):
    make_moderator(username="m1", email="m1@example.org")
    make_moderator(username="m2", email="m2@example.org")
    notification = Notification.objects.create(
        comment=held_comment, kind=Notification.Kind.MODERATORS
    )
    notification_send(notification_id=notification.pk)
    first, second = (links_in(m.body) for m in mailoutbox)
    assert set(first) == set(second) == {"approve", "spam", "trash"}
    assert first["approve"] != second["approve"]


def test_opening_a_link_shows_one_button_and_changes_nothing(client, moderator, held_comment):
    response = client.get(path(held_comment, moderator, "spam"))
    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert html.count("<button") == 1
    assert "Mark as spam" in html and "<p>Is this ok?</p>" in html
    assert Comment.objects.get(pk=held_comment.pk).status == Status.PENDING
    assert not ModerationLinkUse.objects.exists()


@pytest.mark.parametrize(
    ("action", "status"),
    [("approve", Status.APPROVED), ("spam", Status.SPAM), ("trash", Status.TRASH)],
)
def test_pressing_the_button_acts_as_the_moderator_it_was_sent_to(
    client, moderator, held_comment, no_delay, action, status
):
    response = client.post(path(held_comment, moderator, action))
    assert response.status_code == HTTPStatus.OK
    assert Comment.objects.get(pk=held_comment.pk).status == status
    event = ModerationEvent.objects.get(comment=held_comment)
    assert (event.actor, event.action) == (moderator, action)


def test_the_moderator_need_not_be_signed_in_but_csrf_is_checked(moderator, held_comment):
    client = Client(enforce_csrf_checks=True)
    url = path(held_comment, moderator)
    assert client.post(url).status_code == HTTPStatus.FORBIDDEN
    page = client.get(url).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf is not None
    assert client.post(url, {"csrfmiddlewaretoken": csrf.group(1)}).status_code == 200
    assert Comment.objects.get(pk=held_comment.pk).status == Status.APPROVED


def test_a_link_still_works_before_it_expires(
    client, moderator, held_comment, settings, mocker, no_delay
):
    settings.REEX_MODERATION_LINK_HOURS = 72
    sent = time.time() - timedelta(hours=71).total_seconds()
    clock = mocker.patch("django.core.signing.time.time", return_value=sent)
    url = path(held_comment, moderator)
    mocker.stop(clock)
    assert client.post(url).status_code == HTTPStatus.OK


def test_a_link_works_once(client, moderator, held_comment, no_delay):
    url = path(held_comment, moderator)
    client.post(url)
    Comment.objects.filter(pk=held_comment.pk).update(status=Status.PENDING)
    again = client.post(url)
    assert again.status_code == HTTPStatus.GONE
    assert "already used" in again.content.decode()
    assert client.get(url).status_code == HTTPStatus.GONE
    assert ModerationEvent.objects.filter(comment=held_comment).count() == 1


def test_a_link_expires_after_the_configured_hours(
    client, moderator, held_comment, settings, mocker
):
    settings.REEX_MODERATION_LINK_HOURS = 72
    sent = time.time() - timedelta(hours=73).total_seconds()
    clock = mocker.patch("django.core.signing.time.time", return_value=sent)
    url = path(held_comment, moderator)
    mocker.stop(clock)
    response = client.post(url)
    assert response.status_code == HTTPStatus.GONE
    assert "expired" in response.content.decode()
    assert Comment.objects.get(pk=held_comment.pk).status == Status.PENDING


@pytest.mark.parametrize("token", ["nonsense", "eyJjIjoxfQ:1abc:def"])
def test_a_forged_link_is_refused(client, token):
    response = client.get(f"/comments/moderate/{token}/")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "not valid" in response.content.decode()


def test_a_tampered_link_is_refused(client, moderator, held_comment):
    url = path(held_comment, moderator)
    assert client.post(url[:-3] + "xx/").status_code == HTTPStatus.BAD_REQUEST


def test_a_comment_decided_meanwhile_is_not_decided_again(
    client, moderator, held_comment, no_delay
):
    other = make_moderator(username="other")
    comment_approve(comment=held_comment, actor=other)
    response = client.post(path(held_comment, moderator, "spam"))
    assert response.status_code == HTTPStatus.CONFLICT
    assert "already decided" in response.content.decode()
    assert Comment.objects.get(pk=held_comment.pk).status == Status.APPROVED


def test_a_moderator_removed_since_cannot_use_their_link(client, held_comment):
    former = UserFactory.create(username="former")
    response = client.post(path(held_comment, former))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Comment.objects.get(pk=held_comment.pk).status == Status.PENDING
