"""Bans in admin: add, list, change the end, lift; ban a comment's author from the list."""

from http import HTTPStatus

import pytest

from comments import selectors
from comments.models import Ban, Comment
from tests.factories import ApprovedCommentFactory, CommentFactory

pytestmark = pytest.mark.django_db
BANS = "/admin/comments/ban/"
COMMENTS = "/admin/comments/comment/"


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


def test_a_moderator_adds_a_ban_for_a_week(moderator_client, moderator):
    data = {"email": "", "network": "192.0.2.0/24", "reason": "bot farm", "duration": "7d"}
    response = moderator_client.post(f"{BANS}add/", data)
    assert response.status_code == HTTPStatus.FOUND
    ban = Ban.objects.get()
    assert (ban.network, ban.reason, ban.created_by) == ("192.0.2.0/24", "bot farm", moderator)
    assert ban.expires_at is not None
    assert 6.9 < (ban.expires_at - ban.created_at).total_seconds() / 86400 < 7.1


def test_a_ban_for_good_has_no_end(moderator_client):
    data = {"email": "Spam@Example.org", "network": "", "reason": "", "duration": ""}
    moderator_client.post(f"{BANS}add/", data)
    ban = Ban.objects.get()
    assert (ban.email, ban.expires_at) == ("spam@example.org", None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"network": "10.0.0.0/8"}, "too many readers"),
        ({"network": "nonsense"}, "Enter an IP address"),
        ({"email": "a@example.org", "network": "192.0.2.1"}, "either an email address"),
        ({}, "either an email address"),
    ],
)
def test_a_bad_ban_is_shown_again_with_the_error(moderator_client, data, message):
    form = {"email": "", "network": "", "reason": "", "duration": "", **data}
    response = moderator_client.post(f"{BANS}add/", form)
    assert response.status_code == HTTPStatus.OK
    assert message in response.content.decode()
    assert not Ban.objects.exists()


def test_the_list_shows_active_and_lifted_bans(moderator_client):
    Ban.objects.create(email="a@example.org")
    Ban.objects.create(network="192.0.2.1/32", lifted_at="2026-01-01T00:00Z")
    html = moderator_client.get(BANS).content.decode()
    assert "a@example.org" in html and "192.0.2.1" in html
    assert "active" in html and "lifted" in html


def test_lifting_from_the_list_ends_the_ban(moderator_client, moderator):
    ban = Ban.objects.create(email="a@example.org")
    data = {"action": "lift_selected", "_selected_action": [ban.pk]}
    moderator_client.post(BANS, data)
    ban.refresh_from_db()
    assert (ban.lifted_by, ban.lifted_at is not None) == (moderator, True)
    assert selectors.ban_active_for(email="a@example.org", ip=None) is None


def test_banning_authors_from_the_comment_list(moderator_client):
    first = CommentFactory.create(author_email="one@example.org")
    second = ApprovedCommentFactory.create(author_email="two@example.org")
    data = {"action": "ban_authors_by_email", "_selected_action": [first.pk, second.pk]}
    response = moderator_client.post(COMMENTS, data, follow=True)
    assert "Banned for good: one@example.org, two@example.org." in response.content.decode()
    assert set(Ban.objects.values_list("email", flat=True)) == {
        "one@example.org",
        "two@example.org",
    }
    assert Comment.objects.get(pk=second.pk).status == Comment.Status.APPROVED


def test_banning_an_author_twice_keeps_one_ban(moderator_client):
    comment = CommentFactory.create(ip_address="198.51.100.5")
    data = {"action": "ban_authors_by_ip", "_selected_action": [comment.pk]}
    moderator_client.post(COMMENTS, data)
    moderator_client.post(COMMENTS, data)
    assert list(Ban.objects.values_list("network", flat=True)) == ["198.51.100.5/32"]


def test_a_user_without_the_ban_permission_cannot_ban(client, plain_user):
    plain_user.is_staff = True
    plain_user.save()
    client.force_login(plain_user)
    assert client.get(f"{BANS}add/").status_code == HTTPStatus.FORBIDDEN
