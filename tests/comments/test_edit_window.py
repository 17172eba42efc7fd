"""The author's edit window over the API: edit or delete with the token, in time only."""

from datetime import datetime, timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from comments import services
from comments.models import Comment, ModerationEvent
from comments.public_cache import public_list_cache_bump
from tests.factories import ApprovedCommentFactory, ArticleFactory

pytestmark = pytest.mark.django_db
Status = Comment.Status
VALID = {"author_name": "Ann", "author_email": "ann@example.org", "body": "First thoughts."}


@pytest.fixture
def posted(api_client, no_delay) -> dict:
    ArticleFactory.create(key="a")
    response = api_client.post("/api/v1/articles/a/comments/", VALID, format="json")
    assert response.status_code == HTTPStatus.ACCEPTED
    return response.json()


def _url(answer: dict) -> str:
    return f"/api/v1/comments/{answer['id']}/"


def _patch(client: APIClient, answer: dict, data: dict, token: str | None = None):
    token = answer["edit_token"] if token is None else token
    return client.patch(_url(answer), data, format="json", HTTP_X_REEX_EDIT_TOKEN=token)


def _age(answer: dict, **delta: float) -> None:
    Comment.objects.filter(pk=answer["id"]).update(created_at=timezone.now() - timedelta(**delta))


def test_the_202_answer_carries_a_token_stored_only_as_a_hash(posted):
    comment = Comment.objects.get(pk=posted["id"])
    assert posted["edit_token"] and len(comment.edit_key_hash) == 64
    assert posted["edit_token"] not in str(Comment.objects.values().get(pk=comment.pk))
    until = datetime.fromisoformat(posted["editable_until"].replace("Z", "+00:00"))
    assert until == comment.created_at + timedelta(minutes=15)


def test_the_author_edits_in_time(api_client, posted, no_delay, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _patch(api_client, posted, {"body": "  Second thoughts.  "})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "pending"
    comment = Comment.objects.get(pk=posted["id"])
    assert comment.body == "Second thoughts."
    no_delay["moderate"].assert_called_with(comment.pk)


def test_the_token_may_come_in_the_body(api_client, posted):
    data = {"author_name": "Ann Lee", "edit_token": posted["edit_token"]}
    response = api_client.patch(_url(posted), data, format="json")
    assert response.status_code == HTTPStatus.OK
    assert Comment.objects.get(pk=posted["id"]).author_name == "Ann Lee"


def test_an_edit_of_an_approved_comment_is_moderated_again(
    api_client, posted, no_delay, mocker, django_capture_on_commit_callbacks
):
    services.comment_moderate(comment_id=posted["id"])
    assert Comment.objects.get(pk=posted["id"]).status == Status.APPROVED
    bump = mocker.patch(
        "comments.services.transitions.public_list_cache_bump", wraps=public_list_cache_bump
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = _patch(api_client, posted, {"body": "Now with a link to casino.example"})

    assert response.status_code == HTTPStatus.OK and response.json()["status"] == "pending"
    comment = Comment.objects.get(pk=posted["id"])
    assert comment.status == Status.PENDING
    assert comment.checked_at is None and comment.body_html == "" and comment.reasons == []
    bump.assert_called_once_with(article_key="a")
    no_delay["moderate"].assert_called_with(comment.pk)
    event = ModerationEvent.objects.filter(comment=comment).latest("id")
    assert (event.action, event.rule, event.from_status, event.to_status) == (
        "edit",
        "author",
        "approved",
        "pending",
    )
    assert comment in Comment.objects.filter(status=Status.PENDING, checked_at=None)


def test_an_edit_too_late_is_409(api_client, posted):
    _age(posted, minutes=16)
    response = _patch(api_client, posted, {"body": "Too late now."})
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "edit_window_closed"
    assert Comment.objects.get(pk=posted["id"]).body == VALID["body"]


def test_an_edit_after_a_reply_is_409(api_client, posted):
    services.comment_moderate(comment_id=posted["id"])
    parent = Comment.objects.get(pk=posted["id"])
    ApprovedCommentFactory.create(article=parent.article, parent=parent, depth=1)
    response = _patch(api_client, posted, {"body": "Changing what was answered."})
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "has_replies"


def test_a_spam_reply_does_not_close_the_window(api_client, posted):
    parent = Comment.objects.get(pk=posted["id"])
    ApprovedCommentFactory.create(
        article=parent.article, parent=parent, depth=1, status=Status.SPAM
    )
    assert _patch(api_client, posted, {"body": "Still mine."}).status_code == HTTPStatus.OK


@pytest.mark.parametrize("token", ["", "garbage", "wrong-signature:abc"])
def test_a_wrong_token_is_403(api_client, posted, token):
    response = _patch(api_client, posted, {"body": "Not mine."}, token=token)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Comment.objects.get(pk=posted["id"]).body == VALID["body"]


def test_a_token_of_another_comment_is_403(api_client, posted, no_delay):
    other = api_client.post(
        "/api/v1/articles/a/comments/",
        {**VALID, "author_email": "bob@example.org", "body": "Another."},
        format="json",
        REMOTE_ADDR="198.51.100.2",
    ).json()
    response = _patch(api_client, posted, {"body": "Hijack."}, token=other["edit_token"])
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_an_unknown_comment_is_404(api_client, posted):
    response = api_client.patch(
        "/api/v1/comments/999999/",
        {"body": "x y"},
        format="json",
        HTTP_X_REEX_EDIT_TOKEN=posted["edit_token"],
    )
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_bad_fields_are_400_per_field_and_change_nothing(api_client, posted):
    response = _patch(
        api_client, posted, {"body": "x", "author_url": "javascript:alert(1)", "author_name": ""}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) == {"body", "author_url", "author_name"}
    comment = Comment.objects.get(pk=posted["id"])
    assert (comment.body, comment.author_name) == (VALID["body"], "Ann")


def test_an_empty_edit_is_400(api_client, posted):
    response = _patch(api_client, posted, {})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "non_field_errors" in response.json()


def test_wrong_json_types_are_400_not_500(api_client, posted):
    response = _patch(api_client, posted, {"body": ["a"], "author_name": {"x": 1}})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) == {"body", "author_name"}


def test_the_author_deletes_in_time(
    api_client, posted, no_delay, mocker, django_capture_on_commit_callbacks
):
    services.comment_moderate(comment_id=posted["id"])
    bump = mocker.patch("comments.services.transitions.public_list_cache_bump")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.delete(_url(posted), HTTP_X_REEX_EDIT_TOKEN=posted["edit_token"])
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert not Comment.objects.filter(pk=posted["id"]).exists()
    bump.assert_called_once_with(article_key="a")


def test_a_delete_too_late_or_with_a_wrong_token_is_refused(api_client, posted):
    wrong = api_client.delete(_url(posted), HTTP_X_REEX_EDIT_TOKEN="nope")
    assert wrong.status_code == HTTPStatus.FORBIDDEN
    _age(posted, minutes=20)
    late = api_client.delete(_url(posted), HTTP_X_REEX_EDIT_TOKEN=posted["edit_token"])
    assert late.status_code == HTTPStatus.CONFLICT
    assert Comment.objects.filter(pk=posted["id"]).exists()


def test_a_spam_comment_cannot_be_edited_back_into_moderation(api_client, posted):
    Comment.objects.filter(pk=posted["id"]).update(status=Status.SPAM)
    response = _patch(api_client, posted, {"body": "Please let me in."})
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "not_editable"


def test_with_the_window_off_no_token_is_given(api_client, no_delay, settings):
    settings.REEX_EDIT_WINDOW_MINUTES = 0
    ArticleFactory.create(key="b")
    answer = api_client.post("/api/v1/articles/b/comments/", VALID, format="json").json()
    assert answer["edit_token"] == "" and answer["editable_until"] is None
