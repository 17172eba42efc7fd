from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import factory
import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from comments import services
from comments.models import Article, Comment
from tests.comments.factories import ApprovedCommentFactory, ArticleFactory, CommentFactory

pytestmark = pytest.mark.django_db
Status = Comment.Status
VALID = {"author_name": "Ann", "author_email": "ann@example.org", "body": "Well said."}


def comments_url(key: str) -> str:
    return f"/api/v1/articles/{key}/comments/"


def post_comment(client, key: str, **overrides):
    return client.post(comments_url(key), {**VALID, **overrides}, format="json")


# --- articles -------------------------------------------------------------------------


def test_get_article_shows_the_approved_count_only(api_client):
    article = ArticleFactory.create(
        key="hello",
        title="Hello",
        url="https://x.org/hello/",
        summary="Prices rose.",
        image_url="https://x.org/hello.jpg",
        author="Ann Lee",
        published_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    ApprovedCommentFactory.create_batch(2, article=article)
    CommentFactory.create(article=article)
    CommentFactory.create(article=article, status=Status.SPAM)
    response = api_client.get("/api/v1/articles/hello/")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "key": "hello",
        "title": "Hello",
        "url": "https://x.org/hello/",
        "summary": "Prices rose.",
        "image_url": "https://x.org/hello.jpg",
        "author": "Ann Lee",
        "published_at": "2025-01-02T03:04:05Z",
        "comments_open": True,
        "comment_count": 2,
    }


def test_get_article_reports_auto_closed_comments(api_client, settings):
    settings.REEX_CLOSE_COMMENTS_AFTER_DAYS = 7
    ArticleFactory.create(key="old", published_at=timezone.now() - timedelta(days=8))
    assert api_client.get("/api/v1/articles/old/").json()["comments_open"] is False


def test_get_unknown_article_is_404(api_client):
    assert api_client.get("/api/v1/articles/nope/").status_code == HTTPStatus.NOT_FOUND


ARTICLE = {
    "title": "Rare earths",
    "url": "https://news.example.org/rare/",
    "published_at": "2025-01-02T03:04:05Z",
    "comments_open": True,
}


def test_put_article_needs_authentication(api_client):
    response = api_client.put("/api/v1/articles/rare/", ARTICLE, format="json")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert not Article.objects.exists()


def test_put_article_needs_the_change_permission(api_client, plain_user):
    token = Token.objects.create(user=plain_user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api_client.put("/api/v1/articles/rare/", ARTICLE, format="json")
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_put_article_with_a_token_creates_then_updates(api_client, moderator):
    token = Token.objects.create(user=moderator)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    created = api_client.put("/api/v1/articles/rare/", ARTICLE, format="json")
    assert created.status_code == HTTPStatus.CREATED
    updated = api_client.put(
        "/api/v1/articles/rare/", {**ARTICLE, "comments_open": False}, format="json"
    )
    assert updated.status_code == HTTPStatus.OK
    assert updated.json()["comments_open"] is False
    article = Article.objects.get(key="rare")
    assert (article.title, article.published_at.year) == ("Rare earths", 2025)


def test_put_article_reports_invalid_fields(api_client, moderator):
    api_client.force_authenticate(moderator)
    response = api_client.put(
        "/api/v1/articles/rare/", {"url": "not a url", "published_at": "soon"}, format="json"
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) == {"title", "url", "published_at"}


# --- submitting -----------------------------------------------------------------------


def test_post_comment_answers_202_pending(api_client, no_delay):
    ArticleFactory.create(key="a")
    response = post_comment(api_client, "a", author_url="https://ann.example.org")
    assert response.status_code == HTTPStatus.ACCEPTED
    comment = Comment.objects.get()
    answer = response.json()
    assert {k: answer[k] for k in ("id", "status", "detail")} == {
        "id": comment.pk,
        "status": "pending",
        "detail": "Your comment is awaiting moderation.",
    }
    assert set(answer) == {"id", "status", "detail", "edit_token", "editable_until"}


def test_post_comment_records_the_client_ip_and_user_agent(api_client, no_delay):
    ArticleFactory.create(key="a")
    api_client.post(
        comments_url("a"),
        VALID,
        format="json",
        REMOTE_ADDR="192.0.2.44",
        HTTP_USER_AGENT="Reader/1.0",
    )
    comment = Comment.objects.get()
    assert (comment.ip_address, comment.user_agent) == ("192.0.2.44", "Reader/1.0")


def test_post_comment_reports_every_invalid_field_in_drf_shape(api_client, no_delay):
    ArticleFactory.create(key="a")
    response = api_client.post(
        comments_url("a"),
        {"author_email": "nope", "body": "x", "author_url": "javascript:alert(1)"},
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    errors = response.json()
    assert set(errors) == {"author_name"}
    response = post_comment(
        api_client, "a", author_name="", author_email="nope", body="x", author_url="ftp://x"
    )
    errors = response.json()
    assert set(errors) == {"author_name", "author_email", "body", "author_url"}
    assert all(isinstance(messages, list) and messages for messages in errors.values())


@pytest.mark.parametrize("field", ["author_name", "body"])
def test_post_comment_with_a_nul_character_is_a_field_error(api_client, no_delay, field):
    ArticleFactory.create(key="a")
    response = post_comment(api_client, "a", **{field: "bad\x00value"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()


def test_post_comment_with_control_characters_is_a_field_error(api_client, no_delay):
    ArticleFactory.create(key="a")
    response = post_comment(api_client, "a", body="bell\x07 here")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["body"] == ["Control characters are not allowed."]


def test_post_comment_with_wrong_json_types_is_a_field_error(api_client, no_delay):
    ArticleFactory.create(key="a")
    response = post_comment(api_client, "a", body=["x"], parent="abc", notify_replies="maybe")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) == {"body", "parent", "notify_replies"}


def test_post_comment_with_a_bad_parent_is_a_field_error(api_client, no_delay):
    ArticleFactory.create(key="a")
    pending = CommentFactory.create(article=Article.objects.get(key="a"))
    response = post_comment(api_client, "a", parent=pending.pk)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "parent" in response.json()


def test_post_comment_reply_to_an_approved_comment(api_client, no_delay):
    parent = ApprovedCommentFactory.create(article=ArticleFactory.create(key="a"))
    response = post_comment(api_client, "a", parent=parent.pk, notify_replies=True)
    assert response.status_code == HTTPStatus.ACCEPTED
    reply = Comment.objects.get(pk=response.json()["id"])
    assert (reply.parent_id, reply.notify_replies) == (parent.pk, True)


def test_post_comment_on_an_unknown_article_is_404(api_client, no_delay):
    assert post_comment(api_client, "missing").status_code == HTTPStatus.NOT_FOUND


def test_post_comment_on_a_closed_article_is_403(api_client, no_delay):
    ArticleFactory.create(key="closed", comments_open=False)
    response = post_comment(api_client, "closed")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["detail"] == "Comments are closed for this article."


def test_post_a_duplicate_comment_is_409(api_client, no_delay, settings):
    settings.REEX_COMMENT_FLOOD_SECONDS = 0
    ArticleFactory.create(key="a")
    post_comment(api_client, "a")
    assert post_comment(api_client, "a").status_code == HTTPStatus.CONFLICT


def test_post_a_flood_is_429_with_retry_after(api_client, no_delay, settings):
    settings.REEX_COMMENT_FLOOD_SECONDS = 15
    ArticleFactory.create(key="a")
    post_comment(api_client, "a")
    response = post_comment(api_client, "a", author_email="bob@example.org", body="Other")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 1 <= int(response["Retry-After"]) <= 15


def test_post_beyond_the_rate_is_throttled_per_ip(api_client, no_delay, settings):
    settings.REEX_COMMENT_FLOOD_SECONDS = 0
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"comment": "2/min", "subscribe": None},
    }
    ArticleFactory.create(key="a")
    for n in range(2):
        assert post_comment(api_client, "a", body=f"Comment {n}").status_code == 202
    response = post_comment(api_client, "a", body="Comment 3")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Retry-After" in response
    other = api_client.post(
        comments_url("a"),
        {**VALID, "body": "From elsewhere"},
        format="json",
        REMOTE_ADDR="192.0.2.1",
    )
    assert other.status_code == HTTPStatus.ACCEPTED


def test_reading_comments_is_not_throttled(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"comment": "1/min", "subscribe": None},
    }
    ArticleFactory.create(key="a")
    for _ in range(3):
        assert api_client.get(comments_url("a")).status_code == HTTPStatus.OK


# --- public list ----------------------------------------------------------------------


def test_list_shows_approved_comments_oldest_first_without_private_fields(api_client):
    article = ArticleFactory.create(key="a")
    now = timezone.now()
    second = ApprovedCommentFactory.create(article=article, created_at=now - timedelta(minutes=1))
    first = ApprovedCommentFactory.create(
        article=article, created_at=now - timedelta(minutes=2), author_email="secret@example.org"
    )
    CommentFactory.create(article=article, body="pending text")
    CommentFactory.create(article=article, status=Status.SPAM)
    response = api_client.get(comments_url("a"))
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert [item["id"] for item in body["results"]] == [first.pk, second.pk]
    assert set(body["results"][0]) == {
        "id",
        "parent",
        "author_name",
        "author_url",
        "body_html",
        "created_at",
    }
    raw = response.content.decode()
    assert "secret@example.org" not in raw
    assert "203.0.113.7" not in raw
    assert "pending text" not in raw


def test_list_is_cursor_paginated(api_client):
    article = ArticleFactory.create(key="a")
    start = timezone.now() - timedelta(hours=1)
    times = factory.Sequence(lambda n: start + timedelta(seconds=n))
    ApprovedCommentFactory.create_batch(55, article=article, created_at=times)
    first = api_client.get(comments_url("a")).json()
    assert len(first["results"]) == 50
    assert first["previous"] is None
    second = api_client.get(first["next"]).json()
    assert len(second["results"]) == 5
    assert second["next"] is None
    ids = [c["id"] for c in first["results"] + second["results"]]
    assert len(set(ids)) == 55


def test_list_shows_a_comment_approved_after_the_list_was_cached(
    api_client, django_capture_on_commit_callbacks
):
    article = ArticleFactory.create(key="a")
    comment = CommentFactory.create(article=article)
    assert api_client.get(comments_url("a")).json()["results"] == []

    with django_capture_on_commit_callbacks(execute=True):
        services.comment_approve(comment=comment, actor=None)

    assert [c["id"] for c in api_client.get(comments_url("a")).json()["results"]] == [comment.pk]


def test_list_drops_a_comment_marked_spam_after_the_list_was_cached(
    api_client, django_capture_on_commit_callbacks
):
    comment = ApprovedCommentFactory.create(article=ArticleFactory.create(key="a"))
    assert len(api_client.get(comments_url("a")).json()["results"]) == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.comment_mark_spam(comment=comment, actor=None)

    assert api_client.get(comments_url("a")).json()["results"] == []


def test_only_the_plain_first_page_is_cached_so_junk_parameters_cannot_fill_the_cache(
    api_client, mocker
):
    ApprovedCommentFactory.create(article=ArticleFactory.create(key="a"))
    stored = mocker.spy(cache, "set")

    for n in range(3):
        assert api_client.get(comments_url("a"), {"junk": n}).status_code == HTTPStatus.OK
    assert stored.call_count == 0

    api_client.get(comments_url("a"))
    assert stored.call_count == 1


def test_a_cached_list_answers_the_same_json_as_the_first_read(
    api_client, django_assert_num_queries
):
    ApprovedCommentFactory.create_batch(2, article=ArticleFactory.create(key="a"))
    first = api_client.get(comments_url("a"))

    with django_assert_num_queries(0):
        second = api_client.get(comments_url("a"))

    assert second["Content-Type"] == "application/json"
    assert second.content == first.content
    assert len(second.json()["results"]) == 2


def test_list_of_an_unknown_article_is_404(api_client):
    assert api_client.get(comments_url("nope")).status_code == HTTPStatus.NOT_FOUND


# --- moderation -----------------------------------------------------------------------


def test_moderation_list_needs_authentication(api_client):
    response = api_client.get("/api/v1/moderation/comments/")
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_moderation_list_is_forbidden_to_a_plain_user(api_client, plain_user):
    api_client.force_authenticate(plain_user)
    assert api_client.get("/api/v1/moderation/comments/").status_code == HTTPStatus.FORBIDDEN


def test_moderation_list_filters_by_status_and_shows_private_fields(api_client, moderator):
    pending = CommentFactory.create(reasons=["Held."], spam_score=0.5)
    ApprovedCommentFactory.create()
    api_client.force_authenticate(moderator)
    response = api_client.get("/api/v1/moderation/comments/?status=pending")
    assert response.status_code == HTTPStatus.OK
    (item,) = response.json()["results"]
    assert item["id"] == pending.pk
    assert item["author_email"] == pending.author_email
    assert item["ip_address"] == "203.0.113.7"
    assert (item["status"], item["spam_score"], item["reasons"]) == ("pending", 0.5, ["Held."])
    assert item["body"] == pending.body


def test_moderation_list_with_token_authentication(api_client, moderator):
    token = Token.objects.create(user=moderator)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/v1/moderation/comments/").status_code == HTTPStatus.OK


def test_moderation_list_refuses_an_unknown_status(api_client, moderator):
    api_client.force_authenticate(moderator)
    response = api_client.get("/api/v1/moderation/comments/?status=weird")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "status" in response.json()


def test_moderation_list_query_count_does_not_grow(
    api_client, moderator, django_assert_max_num_queries
):
    CommentFactory.create_batch(20)
    api_client.force_authenticate(moderator)
    with django_assert_max_num_queries(6):
        api_client.get("/api/v1/moderation/comments/")


@pytest.mark.parametrize(
    "action,start,end",
    [
        ("approve", "pending", "approved"),
        ("spam", "approved", "spam"),
        ("ham", "spam", "approved"),
        ("trash", "approved", "trash"),
    ],
)
def test_moderation_actions_change_the_status(api_client, moderator, no_delay, action, start, end):
    comment = CommentFactory.create(status=start)
    api_client.force_authenticate(moderator)
    response = api_client.post(f"/api/v1/moderation/comments/{comment.pk}/{action}/")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"id": comment.pk, "status": end}
    event = comment.events.get()
    assert (event.actor, event.action) == (moderator, action)


def test_moderation_restore_returns_to_the_previous_status(api_client, moderator):
    comment = CommentFactory.create(status=Status.TRASH, status_before_trash=Status.SPAM)
    api_client.force_authenticate(moderator)
    response = api_client.post(f"/api/v1/moderation/comments/{comment.pk}/restore/")
    assert response.json() == {"id": comment.pk, "status": "spam"}


def test_moderation_restore_of_a_comment_not_in_trash_is_409(api_client, moderator):
    comment = ApprovedCommentFactory.create()
    api_client.force_authenticate(moderator)
    response = api_client.post(f"/api/v1/moderation/comments/{comment.pk}/restore/")
    assert response.status_code == HTTPStatus.CONFLICT


def test_moderation_unknown_action_or_comment_is_404(api_client, moderator):
    comment = CommentFactory.create()
    api_client.force_authenticate(moderator)
    assert api_client.post(f"/api/v1/moderation/comments/{comment.pk}/delete/").status_code == 404
    assert api_client.post("/api/v1/moderation/comments/99999/approve/").status_code == 404


def test_moderation_action_is_forbidden_to_a_plain_user(api_client, plain_user):
    comment = CommentFactory.create()
    api_client.force_authenticate(plain_user)
    response = api_client.post(f"/api/v1/moderation/comments/{comment.pk}/approve/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Comment.objects.get(pk=comment.pk).status == Status.PENDING


def test_moderation_action_needs_authentication(api_client):
    comment = CommentFactory.create()
    response = api_client.post(f"/api/v1/moderation/comments/{comment.pk}/approve/")
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_session_authenticated_moderation_needs_csrf(moderator):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(moderator)
    comment = CommentFactory.create()
    response = client.post(f"/api/v1/moderation/comments/{comment.pk}/approve/")
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_the_schema_documents_the_comment_endpoints(api_client):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == HTTPStatus.OK
    paths = response.json()["paths"]
    for path in [
        "/api/v1/articles/{key}/",
        "/api/v1/articles/{key}/comments/",
        "/api/v1/moderation/comments/",
        "/api/v1/moderation/comments/{comment_id}/{action}/",
    ]:
        assert path in paths
