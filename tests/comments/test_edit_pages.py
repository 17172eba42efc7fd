"""The author's edit window on the reader page: the cookie, the Edit link, edit and delete."""

import time
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.utils import timezone

from comments import services
from comments.models import Comment
from comments.tokens import form_timestamp_make
from tests.factories import ApprovedCommentFactory, ArticleFactory

pytestmark = pytest.mark.django_db
Status = Comment.Status
PAGE = "/articles/welcome/"


@pytest.fixture
def article():
    return ArticleFactory.create(key="welcome", title="Welcome")


def _post(client: Client, body: str = "My first words.") -> Comment:
    data = {
        "author_name": "Ann",
        "author_email": "ann@example.org",
        "author_url": "",
        "body": body,
        "homepage": "",
        "ts": form_timestamp_make(now=time.time() - 10),
    }
    response = client.post(PAGE, data)
    assert response.status_code == HTTPStatus.FOUND
    return Comment.objects.latest("id")


def _edit_url(comment: Comment) -> str:
    return f"/comments/{comment.pk}/edit/"


def test_the_author_sees_an_edit_link_and_others_do_not(client, article, no_delay):
    comment = _post(client)
    assert _edit_url(comment) in client.get(PAGE).content.decode()
    assert _edit_url(comment) not in Client().get(PAGE).content.decode()


def test_the_cookie_is_signed_httponly_and_lasts_the_window(client, article, no_delay):
    _post(client)
    cookie = client.cookies["reex_edit"]
    assert cookie["httponly"] and cookie["max-age"] == 15 * 60
    assert ":" in cookie.value  # signed


def test_the_author_edits_on_the_page(client, article, no_delay):
    comment = _post(client)
    page = client.get(_edit_url(comment))
    assert page.status_code == HTTPStatus.OK and "My first words." in page.content.decode()

    response = client.post(
        _edit_url(comment), {"author_name": "Ann", "author_url": "", "body": "Better words."}
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{PAGE}#comment-{comment.pk}"
    comment.refresh_from_db()
    assert comment.body == "Better words." and comment.status == Status.PENDING
    assert "Better words." in client.get(PAGE).content.decode()


def test_an_edit_of_an_approved_comment_on_the_page_goes_back_to_moderation(
    client, article, no_delay
):
    comment = _post(client)
    services.comment_moderate(comment_id=comment.pk)
    assert Comment.objects.get(pk=comment.pk).status == Status.APPROVED
    client.post(_edit_url(comment), {"author_name": "Ann", "author_url": "", "body": "Changed."})
    comment.refresh_from_db()
    assert comment.status == Status.PENDING and comment.checked_at is None
    assert "Changed." not in Client().get(PAGE).content.decode()


def test_bad_fields_on_the_page_are_400_with_messages(client, article, no_delay):
    comment = _post(client)
    response = client.post(
        _edit_url(comment), {"author_name": "", "author_url": "ftp://x", "body": "x"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.content.decode().count('class="errorlist') >= 3
    assert Comment.objects.get(pk=comment.pk).body == "My first words."


def test_another_reader_cannot_open_or_post_the_edit_page(client, article, no_delay):
    comment = _post(client)
    other = Client()
    assert other.get(_edit_url(comment)).status_code == HTTPStatus.FORBIDDEN
    response = other.post(_edit_url(comment), {"author_name": "X", "body": "Hijacked."})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert other.post(f"/comments/{comment.pk}/delete/").status_code == HTTPStatus.FORBIDDEN
    assert Comment.objects.get(pk=comment.pk).body == "My first words."


def test_too_late_the_page_says_so_and_the_link_is_gone(client, article, no_delay):
    comment = _post(client)
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    assert client.get(_edit_url(comment)).status_code == HTTPStatus.CONFLICT
    response = client.post(_edit_url(comment), {"author_name": "Ann", "body": "Late edit."})
    assert response.status_code == HTTPStatus.CONFLICT
    assert _edit_url(comment) not in client.get(PAGE).content.decode()


def test_after_a_reply_the_page_refuses(client, article, no_delay):
    comment = _post(client)
    services.comment_moderate(comment_id=comment.pk)
    ApprovedCommentFactory.create(article=article, parent=comment, depth=1)
    response = client.post(f"/comments/{comment.pk}/delete/")
    assert response.status_code == HTTPStatus.CONFLICT
    assert "replied" in response.content.decode()
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_the_author_deletes_on_the_page(client, article, no_delay):
    comment = _post(client)
    response = client.post(f"/comments/{comment.pk}/delete/")
    assert response.status_code == HTTPStatus.FOUND
    assert not Comment.objects.filter(pk=comment.pk).exists()
    assert "Your comment is deleted." in client.get(PAGE).content.decode()


def test_an_unknown_comment_is_404(client, article):
    assert client.get("/comments/999999/edit/").status_code == HTTPStatus.NOT_FOUND
    assert client.post("/comments/999999/delete/").status_code == HTTPStatus.NOT_FOUND
