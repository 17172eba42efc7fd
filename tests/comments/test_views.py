import time
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from comments.models import Comment
from comments.tokens import form_timestamp_make, stop_token_make
from tests.comments.factories import ApprovedCommentFactory, ArticleFactory, CommentFactory

pytestmark = pytest.mark.django_db
PAGE = "/articles/welcome/"


@pytest.fixture
def article():
    return ArticleFactory.create(key="welcome", title="Welcome to reex")


def form_data(*, age: float = 10, **overrides: Any) -> dict[str, Any]:
    data = {
        "author_name": "Ann",
        "author_email": "ann@example.org",
        "author_url": "",
        "body": "Thanks for the article.",
        "homepage": "",
        "ts": form_timestamp_make(now=time.time() - age),
    }
    data.update(overrides)
    return data


def test_the_page_shows_the_threaded_approved_comments_and_the_count(client, article):
    top = ApprovedCommentFactory.create(
        article=article, author_name="Ada", body_html="<p>Top text</p>"
    )
    ApprovedCommentFactory.create(
        article=article, parent=top, depth=1, author_name="Linus", body_html="<p>Nested answer</p>"
    )
    ApprovedCommentFactory.create(article=article, author_name="Grace", body_html="<p>Two</p>")
    CommentFactory.create(article=article, body="hidden pending")
    CommentFactory.create(article=article, body="hidden spam", status=Comment.Status.SPAM)
    response = client.get(PAGE)
    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "3 Comments" in html
    assert html.index("Top text") < html.index('class="replies"') < html.index("Nested answer")
    assert "hidden pending" not in html and "hidden spam" not in html


def test_the_page_never_shows_an_email_or_ip(client, article):
    ApprovedCommentFactory.create(article=article, author_email="secret@example.org")
    html = client.get(PAGE).content.decode()
    assert "secret@example.org" not in html
    assert "203.0.113.7" not in html


def test_the_page_has_the_form_with_required_marks_and_the_privacy_line(client, article):
    html = client.get(PAGE).content.decode()
    for name in ["author_name", "author_email", "author_url", "body", "notify_replies"]:
        assert f'name="{name}"' in html
    assert "Your email address will not be published. Required fields are marked" in html
    assert "csrfmiddlewaretoken" in html
    assert 'name="homepage"' in html and 'class="hp"' in html
    assert 'name="ts"' in html


def test_a_missing_article_is_404(client):
    assert client.get("/articles/nope/").status_code == HTTPStatus.NOT_FOUND


def test_a_closed_article_shows_no_form(client):
    ArticleFactory.create(key="closed", comments_open=False)
    html = client.get("/articles/closed/").content.decode()
    assert "Comments are closed." in html
    assert 'name="body"' not in html


def test_a_good_comment_redirects_and_tells_its_author_it_awaits_moderation(
    client, article, no_delay
):
    response = client.post(PAGE, form_data())
    comment = Comment.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{PAGE}#comment-{comment.pk}"
    page = client.get(PAGE).content.decode()
    assert "Your comment is awaiting moderation." in page
    assert f'id="comment-{comment.pk}"' in page
    assert "Thanks for the article." in page


def test_the_authors_pending_comment_is_escaped_plain_text(client, article, no_delay):
    client.post(PAGE, form_data(body="<b>bold</b> <script>alert(1)</script>\nline two"))
    page = client.get(PAGE).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page
    assert "<br>" in page


def test_other_readers_do_not_see_a_pending_comment(client, article, no_delay):
    client.post(PAGE, form_data())
    assert "Thanks for the article." not in Client().get(PAGE).content.decode()


def test_a_forged_author_cookie_shows_nothing(client, article):
    pending = CommentFactory.create(article=article, body="someone else's")
    client.cookies["reex_comments"] = str(pending.pk)
    assert "someone else&#x27;s" not in client.get(PAGE).content.decode()


def test_the_form_shows_errors_next_to_the_fields_and_keeps_the_input(client, article, no_delay):
    response = client.post(
        PAGE, form_data(author_name="", author_email="nope", body="Kept text", author_url="x")
    )
    html = response.content.decode()
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert html.count('class="errorlist') >= 3
    assert "This field is required." in html
    assert "Enter a valid email address." in html
    assert "Kept text" in html
    assert not Comment.objects.exists()


def test_an_empty_form_lists_every_required_field(client, article, no_delay):
    html = client.post(PAGE, form_data(author_name="", author_email="", body="")).content.decode()
    assert html.count("This field is required.") == 3


def test_windows_newlines_from_a_textarea_are_accepted(client, article, no_delay):
    client.post(PAGE, form_data(body="one\r\ntwo"))
    assert Comment.objects.get().body == "one\ntwo"


def test_a_filled_honeypot_is_refused(client, article, no_delay):
    response = client.post(PAGE, form_data(homepage="http://spam.example"))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not Comment.objects.exists()


def test_a_form_sent_faster_than_the_minimum_is_refused_politely(client, article, settings):
    settings.REEX_FORM_MIN_SECONDS = 3
    response = client.post(PAGE, form_data(age=1))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Please wait a few seconds" in response.content.decode()
    assert not Comment.objects.exists()


def test_a_form_older_than_the_maximum_is_refused_with_a_fresh_timestamp(
    client, article, settings, no_delay
):
    settings.REEX_FORM_MAX_AGE_SECONDS = 7200
    old = form_data(age=7300)
    response = client.post(PAGE, old)
    html = response.content.decode()
    assert "This form has expired" in html
    assert old["ts"] not in html
    assert not Comment.objects.exists()


def test_a_forged_timestamp_is_refused(client, article, no_delay):
    response = client.post(PAGE, form_data(ts="12345"))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not Comment.objects.exists()


def test_zero_minimum_seconds_accepts_an_instant_form(client, article, settings, no_delay):
    settings.REEX_FORM_MIN_SECONDS = 0
    assert client.post(PAGE, form_data(age=0)).status_code == HTTPStatus.FOUND


def test_a_post_to_a_closed_article_is_refused(client, no_delay):
    ArticleFactory.create(key="closed", comments_open=False)
    response = client.post("/articles/closed/", form_data())
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Comment.objects.exists()


def test_a_duplicate_from_the_form_is_refused(client, article, settings, no_delay):
    settings.REEX_COMMENT_FLOOD_SECONDS = 0
    client.post(PAGE, form_data())
    response = client.post(PAGE, form_data())
    assert response.status_code == HTTPStatus.CONFLICT
    assert "You already posted this comment." in response.content.decode()


def test_a_flood_from_the_form_says_how_long_to_wait(client, article, settings, no_delay):
    settings.REEX_COMMENT_FLOOD_SECONDS = 15
    client.post(PAGE, form_data())
    response = client.post(PAGE, form_data(body="Another one", author_email="b@example.org"))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Try again in" in response.content.decode()


def test_a_flood_from_the_form_answers_retry_after(client, article, settings, no_delay):
    settings.REEX_COMMENT_FLOOD_SECONDS = 15
    client.post(PAGE, form_data())
    response = client.post(PAGE, form_data(body="Another one", author_email="b@example.org"))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 1 <= int(response["Retry-After"]) <= 15


def test_the_form_is_throttled_like_the_api(client, article, settings, no_delay):
    settings.REEX_COMMENT_FLOOD_SECONDS = 0
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"comment": "1/min", "subscribe": None},
    }
    client.post(PAGE, form_data())
    response = client.post(PAGE, form_data(body="Second"))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 1 <= int(response["Retry-After"]) <= 60


def test_a_reply_link_prefills_the_parent(client, article):
    top = ApprovedCommentFactory.create(article=article, author_name="Ada")
    html = client.get(f"{PAGE}?replyto={top.pk}").content.decode()
    assert f'name="parent" value="{top.pk}"' in html
    assert "Reply to Ada" in html


def test_a_reply_from_the_form_is_saved_with_its_parent(client, article, no_delay):
    top = ApprovedCommentFactory.create(article=article)
    client.post(PAGE, form_data(parent=top.pk, notify_replies="on"))
    reply = Comment.objects.exclude(pk=top.pk).get()
    assert (reply.parent_id, reply.notify_replies) == (top.pk, True)


def test_a_reply_to_a_hidden_comment_is_a_field_error(client, article, no_delay):
    spam = CommentFactory.create(article=article, status=Comment.Status.SPAM)
    response = client.post(PAGE, form_data(parent=spam.pk))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Reply to an approved comment" in response.content.decode()


def test_the_page_needs_csrf(article):
    client = Client(enforce_csrf_checks=True)
    assert client.post(PAGE, form_data()).status_code == HTTPStatus.FORBIDDEN


# --- stop notifications ---------------------------------------------------------------


def stop_url(comment: Comment) -> str:
    token = stop_token_make(comment_id=comment.pk, email=comment.author_email)
    return f"/comments/stop-notifications/{token}/"


def test_opening_the_stop_link_only_shows_a_button(client, article):
    comment = ApprovedCommentFactory.create(article=article, notify_replies=True)
    response = client.get(stop_url(comment))
    assert response.status_code == HTTPStatus.OK
    assert '<form method="post">' in response.content.decode()
    assert Comment.objects.get(pk=comment.pk).notify_replies


def test_posting_the_stop_link_stops_notifications(client, article):
    comment = ApprovedCommentFactory.create(article=article, notify_replies=True)
    response = client.post(stop_url(comment))
    assert "no longer receive" in response.content.decode()
    assert not Comment.objects.get(pk=comment.pk).notify_replies


def test_a_one_click_post_stops_notifications_without_csrf_token_or_cookie(article):
    comment = ApprovedCommentFactory.create(article=article, notify_replies=True)
    response = Client(enforce_csrf_checks=True).post(
        stop_url(comment),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == HTTPStatus.OK
    assert not response.cookies
    assert not Comment.objects.get(pk=comment.pk).notify_replies


def test_the_stop_page_button_works_without_a_csrf_cookie(article):
    comment = ApprovedCommentFactory.create(article=article, notify_replies=True)
    response = Client(enforce_csrf_checks=True).post(stop_url(comment))
    assert "no longer receive" in response.content.decode()
    assert not Comment.objects.get(pk=comment.pk).notify_replies


def test_a_bad_stop_link_is_refused(client):
    response = client.post("/comments/stop-notifications/not-a-token/")
    assert response.status_code == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize("value", ["²", "١٢", "3x"])
def test_a_non_ascii_digit_in_replyto_is_ignored(client, article, value):
    response = client.get(f"/articles/{article.key}/", {"replyto": value})

    assert response.status_code == HTTPStatus.OK


def test_a_non_ascii_digit_as_parent_is_a_field_error(client, article, no_delay):
    response = client.post(f"/articles/{article.key}/", form_data(parent="²"))

    assert response.status_code == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize("status", [Comment.Status.PENDING, Comment.Status.SPAM])
def test_replying_to_an_unpublished_comment_never_shows_its_author(
    client, article, no_delay, status
):
    hidden = CommentFactory.create(article=article, status=status, author_name="Secret Spammer")

    response = client.post(f"/articles/{article.key}/", form_data(parent=str(hidden.pk)))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Secret Spammer" not in response.content.decode()


def test_a_browsers_line_breaks_count_and_are_stored_as_newlines(client, article, no_delay):
    text = "First line.\nSecond line.\n\n" + "x" * 4974  # 5000 characters, the most allowed
    response = client.post(PAGE, form_data(body=text.replace("\n", "\r\n")))
    assert response.status_code == HTTPStatus.FOUND
    assert Comment.objects.get().body == text
