import re
from http import HTTPStatus

import pytest
from django.test import Client

from comments.models import Comment
from comments.services import comment_approve
from comments.tokens import form_timestamp_age
from tests.comments.factories import ApprovedCommentFactory, ArticleFactory, CommentFactory

pytestmark = pytest.mark.django_db
PAGE = "/articles/welcome/"


@pytest.fixture
def article():
    return ArticleFactory.create(key="welcome", title="Welcome to reex")


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)


def test_a_second_reader_is_served_without_the_database(client, article, django_assert_num_queries):
    ApprovedCommentFactory.create(article=article, body="First!")
    client.get(PAGE)

    with django_assert_num_queries(0):
        response = Client().get(PAGE)

    assert response.status_code == HTTPStatus.OK
    assert "First!" in response.content.decode()


def test_each_reader_of_the_cached_page_gets_a_token_that_posts(article, no_delay, settings):
    settings.REEX_FORM_MIN_SECONDS = 0
    Client().get(PAGE)
    reader = Client(enforce_csrf_checks=True)
    page = reader.get(PAGE).content.decode()
    assert "reex-slot" not in page

    answer = reader.post(
        PAGE,
        {
            "author_name": "Ann",
            "author_email": "ann@example.org",
            "body": "Posted from a cached page.",
            "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"),
            "ts": hidden(page, "ts"),
        },
    )

    assert answer.status_code == HTTPStatus.FOUND
    assert Comment.objects.filter(body="Posted from a cached page.").exists()


def test_the_cached_page_carries_a_fresh_form_time(client, article):
    client.get(PAGE)

    age = form_timestamp_age(hidden(Client().get(PAGE).content.decode(), "ts"))

    assert age is not None and age < 5


def test_an_approval_makes_the_cached_page_stale(
    client, article, django_capture_on_commit_callbacks
):
    client.get(PAGE)
    comment = CommentFactory.create(article=article, body="Worth the wait.")

    with django_capture_on_commit_callbacks(execute=True):
        comment_approve(comment=comment, actor=None)

    assert "Worth the wait." in Client().get(PAGE).content.decode()


def test_the_author_of_a_pending_comment_still_sees_it(client, article, no_delay, settings):
    settings.REEX_FORM_MIN_SECONDS = 0
    age_ok = {"ts": hidden(client.get(PAGE).content.decode(), "ts")}
    client.post(
        PAGE,
        {
            "author_name": "Ann",
            "author_email": "ann@example.org",
            "body": "Mine, pending.",
            **age_ok,
        },
    )

    assert "Mine, pending." in client.get(PAGE).content.decode()
    assert "Mine, pending." not in Client().get(PAGE).content.decode()


def test_an_unknown_article_is_still_404(client):
    assert client.get("/articles/nope/").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/articles/nope/").status_code == HTTPStatus.NOT_FOUND
