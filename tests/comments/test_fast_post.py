"""The lean POST of a comment answers exactly as the DRF view does, and only when it can."""

import json
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from comments import fast_post
from comments.apis import ArticleCommentsApi
from comments.models import Comment
from tests.comments.factories import ApprovedCommentFactory, ArticleFactory

pytestmark = pytest.mark.django_db
VALID = {"author_name": "Ann", "author_email": "ann@example.org", "body": "Well said."}
URL = "/api/v1/articles/a/comments/"
# Each answer's own values, different from one post to the next.
PER_POST = ("id", "edit_token", "editable_until")
PER_REQUEST = ("X-Request-ID", "Content-Length")


@pytest.fixture(autouse=True)
def _no_queueing(no_delay):
    return no_delay


@pytest.fixture
def drf_only(monkeypatch):
    """Send every post to the DRF view, as before the lean path."""
    monkeypatch.setattr(fast_post, "is_plain_json_post", lambda request: False)


def _raw(client: APIClient, body: object, **extra: Any):
    text = body if isinstance(body, str) else json.dumps(body)
    content_type = extra.pop("content_type", "application/json")
    return client.generic("POST", URL, text, content_type, **extra)


def _seen(response) -> tuple[int, dict[str, str], object]:
    data = response.json()
    if isinstance(data, dict):
        data = {name: value for name, value in data.items() if name not in PER_POST}
    headers = {name: value for name, value in response.items() if name not in PER_REQUEST}
    return response.status_code, headers, data


def _both(monkeypatch, body: object, *, before=None, **extra: str):
    """Answer ``body`` on the lean path, then on DRF's, each after the same earlier posts."""
    answers = []
    for lean in (True, False):
        Comment.objects.filter(status=Comment.Status.PENDING).delete()
        cache.clear()
        if before:
            before()
        with monkeypatch.context() as patch:
            if not lean:
                patch.setattr(fast_post, "is_plain_json_post", lambda request: False)
            answers.append(_seen(_raw(APIClient(), body, **extra)))
    return answers


@pytest.mark.parametrize(
    "body",
    [
        VALID,
        {**VALID, "author_url": " https://ann.example.org ", "notify_replies": True},
        {**VALID, "article_title": "  Spaces  ", "parent": None},
        {**VALID, "body": ""},
        {**VALID, "author_email": "not an address"},
        {**VALID, "author_name": "x" * 500},
        {**VALID, "parent": 123456},
    ],
)
def test_it_answers_as_the_drf_view(monkeypatch, body):
    ArticleFactory.create(key="a")
    lean, drf = _both(monkeypatch, body)
    assert lean == drf


@pytest.mark.parametrize(
    "body",
    [
        {**VALID, "author_name": 5},
        {**VALID, "notify_replies": "yes"},
        {**VALID, "parent": "7"},
        {**VALID, "parent": 0},
        {**VALID, "body": "a\x00b"},
        {"author_name": "Ann"},
        [VALID],
        "{not json",
        '{"author_name": NaN}',
        "",
    ],
)
def test_what_it_leaves_to_drf_is_answered_as_before(monkeypatch, body):
    ArticleFactory.create(key="a")
    lean, drf = _both(monkeypatch, body)
    assert lean == drf


@pytest.mark.parametrize(
    "extra",
    [
        {"HTTP_ACCEPT": "text/html"},
        {"HTTP_ACCEPT": "application/json; indent=2"},
        {"HTTP_AUTHORIZATION": "Token nope"},
        {"content_type": "text/plain"},
        {"QUERY_STRING": "format=json"},
    ],
)
def test_unusual_requests_are_answered_as_before(monkeypatch, extra):
    ArticleFactory.create(key="a")
    lean, drf = _both(monkeypatch, VALID, **extra)
    assert lean == drf


def test_refusals_by_the_service_are_answered_as_before(monkeypatch, settings):
    settings.REEX_COMMENT_FLOOD_SECONDS = 15
    article = ArticleFactory.create(key="a")
    reply = ApprovedCommentFactory.create(article=article)
    closed = ArticleFactory.create(key="shut", comments_open=False)
    assert closed.key == "shut"

    def earlier(body: str) -> None:
        _raw(APIClient(), {**VALID, "body": body}, REMOTE_ADDR="192.0.2.9")

    statuses = []
    for body, before in [
        ({**VALID, "parent": reply.pk}, None),
        (VALID, lambda: earlier(VALID["body"])),  # a duplicate
        (VALID, lambda: earlier("Something else")),  # a flood
    ]:
        lean, drf = _both(monkeypatch, body, before=before)
        assert lean == drf
        statuses.append(lean[0])
    for key in ("shut", "missing"):
        url = f"/api/v1/articles/{key}/comments/"
        lean_answer = APIClient().post(url, VALID, format="json")
        with monkeypatch.context() as patch:
            patch.setattr(fast_post, "is_plain_json_post", lambda request: False)
            drf_answer = APIClient().post(url, VALID, format="json")
        assert _seen(lean_answer) == _seen(drf_answer)
        statuses.append(lean_answer.status_code)
    assert statuses == [202, 409, 429, 403, 404]


def test_a_plain_post_does_not_go_through_drf(monkeypatch):
    ArticleFactory.create(key="a")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the DRF view answered")

    monkeypatch.setattr(ArticleCommentsApi, "post", refuse)
    response = _raw(APIClient(), VALID)
    assert response.status_code == HTTPStatus.ACCEPTED
    assert Comment.objects.get().author_name == "Ann"


def _rate(settings, rate: str) -> None:
    settings.REEX_COMMENT_FLOOD_SECONDS = 0
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"comment": rate, "subscribe": None},
    }


def test_a_refused_post_counts_once_against_the_rate(settings):
    _rate(settings, "2/min")
    ArticleFactory.create(key="a")
    client = APIClient()
    assert _raw(client, {**VALID, "notify_replies": "maybe"}).status_code == 400
    assert _raw(client, VALID).status_code == HTTPStatus.ACCEPTED
    assert _raw(client, {**VALID, "body": "Again"}).status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_the_throttled_answer_is_drfs(monkeypatch, settings):
    _rate(settings, "1/min")
    ArticleFactory.create(key="a")
    answers = []
    for lean in (True, False):
        cache.clear()  # the throttle's history
        client = APIClient()
        with monkeypatch.context() as patch:
            if not lean:
                patch.setattr(fast_post, "is_plain_json_post", lambda request: False)
            _raw(client, {**VALID, "body": f"First {lean}"})
            answers.append(_seen(_raw(client, {**VALID, "body": f"Second {lean}"})))
    assert answers[0] == answers[1]
    assert answers[0][0] == HTTPStatus.TOO_MANY_REQUESTS
    assert "Retry-After" in answers[0][1]


def test_an_edit_window_answer_names_its_end(settings):
    settings.REEX_EDIT_WINDOW_MINUTES = 10
    ArticleFactory.create(key="a")
    before = timezone.now()
    body = _raw(APIClient(), VALID).json()
    until = Comment.objects.get().created_at + timedelta(minutes=10)
    assert body["editable_until"] == until.isoformat().replace("+00:00", "Z")
    assert body["edit_token"]
    assert until > before


def test_a_database_outage_is_answered_as_before(monkeypatch):
    ArticleFactory.create(key="a")

    def unreachable(**kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr("comments.services.comment_submit", unreachable)
    lean, drf = _both(monkeypatch, VALID)
    assert lean == drf
    assert lean[0] == HTTPStatus.SERVICE_UNAVAILABLE
    assert lean[1]["Retry-After"]


@pytest.mark.postgres_only(reason="the insert carries the repeat checks on PostgreSQL")
def test_a_plain_post_locks_the_article_and_inserts_in_two_statements(settings):
    settings.REEX_COMMENT_FLOOD_SECONDS = 0
    ArticleFactory.create(key="a")
    with CaptureQueriesContext(connection) as captured:
        assert _raw(APIClient(), VALID).status_code == HTTPStatus.ACCEPTED
    # The test's own transaction turns the service's into savepoints.
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert [sql.split()[0] for sql in statements] == ["SELECT", "INSERT"]
    assert "FOR UPDATE" in statements[0]
    assert "NOT (SELECT EXISTS" in statements[1]
