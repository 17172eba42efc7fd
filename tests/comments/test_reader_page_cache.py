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


def test_a_comment_quoting_a_slot_name_shows_as_written(client, article):
    quoted = "The page used reex-slot-csrf-token and reex-slot-form-time as stand-ins."
    ApprovedCommentFactory.create(article=article, body=quoted, body_html=f"<p>{quoted}</p>")
    client.get(PAGE)

    page = Client().get(PAGE).content.decode()

    assert quoted in page
    assert hidden(page, "csrfmiddlewaretoken") not in page.split('id="respond"')[0]


def test_a_reader_with_a_csrf_cookie_keeps_it_and_the_token_posts(article, no_delay, settings):
    settings.REEX_FORM_MIN_SECONDS = 0
    Client().get(PAGE)
    reader = Client(enforce_csrf_checks=True)
    reader.get(PAGE)
    cookie = reader.cookies[settings.CSRF_COOKIE_NAME].value

    page = reader.get(PAGE)
    token = hidden(page.content.decode(), "csrfmiddlewaretoken")
    answer = reader.post(
        PAGE,
        {
            "author_name": "Ann",
            "author_email": "ann@example.org",
            "body": "Posted with the cookie I had.",
            "csrfmiddlewaretoken": token,
            "ts": hidden(page.content.decode(), "ts"),
        },
    )

    assert page.cookies[settings.CSRF_COOKIE_NAME].value == cookie
    assert answer.status_code == HTTPStatus.FOUND


def test_each_reader_gets_a_different_token(client, article):
    client.get(PAGE)

    tokens = {hidden(Client().get(PAGE).content.decode(), "csrfmiddlewaretoken") for _ in range(5)}

    assert len(tokens) == 5
    assert all(len(token) == 64 and token.isalnum() for token in tokens)


def test_a_closed_article_is_cached_without_a_form_or_a_stand_in(client):
    ArticleFactory.create(key="welcome", comments_open=False)
    client.get(PAGE)

    page = Client().get(PAGE).content.decode()

    assert "Comments are closed." in page
    assert "reex-slot" not in page


def test_the_form_time_is_signed_with_the_current_secret_key(client, article, settings):
    client.get(PAGE)
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40

    age = form_timestamp_age(hidden(Client().get(PAGE).content.decode(), "ts"))

    assert age is not None and age < 5
