"""Reports over the API and from the reader's page."""

from http import HTTPStatus

import pytest
from django.test import Client
from rest_framework.test import APIClient

from comments.models import Comment, Flag
from tests.factories import ApprovedCommentFactory, CommentFactory

pytestmark = pytest.mark.django_db
Status = Comment.Status


def url(comment_id: int) -> str:
    return f"/api/v1/comments/{comment_id}/flags/"


def post(client: APIClient, comment_id: int, ip: str = "198.51.100.1", **data):
    payload = {"reason": "spam", **data}
    return client.post(url(comment_id), payload, format="json", REMOTE_ADDR=ip)


def test_a_report_is_accepted_with_202(api_client):
    comment = ApprovedCommentFactory.create()
    response = post(api_client, comment.pk, detail="Selling watches")
    assert response.status_code == HTTPStatus.ACCEPTED
    flag = Flag.objects.get()
    assert (flag.comment, flag.reason, flag.detail) == (comment, "spam", "Selling watches")


def test_a_repeat_report_is_the_same_202_and_no_new_row(api_client):
    comment = ApprovedCommentFactory.create()
    first = post(api_client, comment.pk)
    again = post(api_client, comment.pk, reason="offensive")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert Flag.objects.count() == 1


@pytest.mark.parametrize("status", [Status.PENDING, Status.SPAM, Status.TRASH])
def test_a_comment_not_published_answers_exactly_as_a_missing_one(api_client, status):
    hidden = CommentFactory.create(status=status)
    on_hidden = post(api_client, hidden.pk)
    on_missing = post(api_client, hidden.pk + 1000)
    assert on_hidden.status_code == on_missing.status_code == HTTPStatus.NOT_FOUND
    assert on_hidden.json() == on_missing.json()
    assert not Flag.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"reason": "boring"}, "reason"),
        ({"reason": ""}, "reason"),
        ({"detail": "x" * 501}, "detail"),
        ({"detail": "bad\x00byte"}, "detail"),
        ({"reader": "short"}, "reader"),
    ],
)
def test_bad_fields_get_a_400_each(api_client, data, field):
    comment = ApprovedCommentFactory.create()
    response = post(api_client, comment.pk, **data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()
    assert not Flag.objects.exists()


def test_a_missing_reason_is_a_field_error(api_client):
    comment = ApprovedCommentFactory.create()
    response = api_client.post(url(comment.pk), {}, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "reason" in response.json()


def test_reports_are_throttled_per_client(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "flag": "2/hour",
        },
    }
    comments = ApprovedCommentFactory.create_batch(3)
    codes = [post(api_client, c.pk).status_code for c in comments]
    assert codes == [HTTPStatus.ACCEPTED, HTTPStatus.ACCEPTED, HTTPStatus.TOO_MANY_REQUESTS]
    assert post(api_client, comments[2].pk, ip="192.0.2.9").status_code == HTTPStatus.ACCEPTED


def test_different_reader_ids_on_one_network_are_different_readers_but_one_source(
    api_client, settings
):
    settings.REEX_FLAGS_TO_HOLD = 2
    comment = ApprovedCommentFactory.create()
    post(api_client, comment.pk, reader="reader-one-123")
    post(api_client, comment.pk, reader="reader-two-456")
    assert Flag.objects.count() == 2
    assert Comment.objects.get(pk=comment.pk).status == Status.APPROVED


def test_reports_from_three_networks_hide_the_comment(api_client, settings):
    settings.REEX_FLAGS_TO_HOLD = 3
    comment = ApprovedCommentFactory.create()
    for n in (1, 2, 3):
        assert post(api_client, comment.pk, ip=f"198.51.100.{n}").status_code == 202
    assert Comment.objects.get(pk=comment.pk).status == Status.PENDING
    assert post(api_client, comment.pk, ip="198.51.100.4").status_code == 404


# --- the reader's page ------------------------------------------------------------------


def page(comment_id: int) -> str:
    return f"/comments/{comment_id}/report/"


def test_each_published_comment_has_a_report_link(client):
    comment = ApprovedCommentFactory.create()
    html = client.get(f"/articles/{comment.article.key}/").content.decode()
    assert f'href="/comments/{comment.pk}/report/"' in html


def test_the_report_page_shows_the_comment_and_a_form(client):
    comment = ApprovedCommentFactory.create(body_html="<p>Buy now</p>")
    response = client.get(page(comment.pk))
    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "<p>Buy now</p>" in html
    assert 'value="off-topic"' in html
    assert "csrfmiddlewaretoken" in html


def test_opening_the_report_page_records_nothing(client):
    client.get(page(ApprovedCommentFactory.create().pk))
    assert not Flag.objects.exists()


@pytest.mark.parametrize("status", [Status.PENDING, Status.SPAM, Status.TRASH])
def test_the_report_page_of_an_unpublished_comment_is_a_404(client, status):
    comment = CommentFactory.create(status=status)
    assert client.get(page(comment.pk)).status_code == HTTPStatus.NOT_FOUND
    assert client.post(page(comment.pk), {"reason": "spam"}).status_code == 404
    assert client.get(page(comment.pk + 1000)).status_code == HTTPStatus.NOT_FOUND


def test_sending_the_form_records_the_report_and_thanks_the_reader(client):
    comment = ApprovedCommentFactory.create()
    response = client.post(
        page(comment.pk), {"reason": "abusive", "detail": "Insults"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/articles/{comment.article.key}/#comments"
    assert "Thank you for your report" in response.content.decode()
    assert Flag.objects.get().reason == "abusive"


def test_a_form_without_a_reason_is_shown_again_with_the_error(client):
    comment = ApprovedCommentFactory.create()
    response = client.post(page(comment.pk), {"detail": "hm"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "This field is required." in response.content.decode()
    assert not Flag.objects.exists()


def test_the_report_form_needs_csrf():
    comment = ApprovedCommentFactory.create()
    client = Client(enforce_csrf_checks=True)
    assert client.post(page(comment.pk), {"reason": "spam"}).status_code == HTTPStatus.FORBIDDEN
    assert not Flag.objects.exists()


def test_the_report_form_is_throttled(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "flag": "1/hour",
        },
    }
    first, second = ApprovedCommentFactory.create_batch(2)
    client.post(page(first.pk), {"reason": "spam"})
    response = client.post(page(second.pk), {"reason": "spam"})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert Flag.objects.count() == 1
