"""Comments through the production shape: gunicorn, PostgreSQL, Redis, a Celery worker, SMTP."""

import json
import urllib.error
import urllib.request
from http import HTTPStatus
from typing import Any

import pytest

from devstack.services import fetch_json
from tests.faults.support import new_article


def post_json(url: str, payload: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 (a loopback http URL)
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def article(stack) -> dict[str, str]:
    return new_article(stack, prefix="e2e", title="End to end")


def approved_ids(stack, key: str) -> list[int]:
    status, body = fetch_json(f"{stack.base_url}/api/v1/articles/{key}/comments/")
    assert status == HTTPStatus.OK
    return [item["id"] for item in body["results"]]


def test_a_comment_posted_over_http_is_moderated_by_the_worker_and_published(stack, article):
    url = f"{stack.base_url}/api/v1/articles/{article['key']}/comments/"
    status, body = post_json(
        url,
        {
            "author_name": "Ann",
            "author_email": "ann@example.org",
            "body": "Straight through <b>the worker</b> https://example.org",
        },
    )
    assert status == HTTPStatus.ACCEPTED
    assert body["status"] == "pending"

    stack.wait_until(lambda: body["id"] in approved_ids(stack, article["key"]), timeout=60)

    _, page = fetch_json(url)
    (published,) = page["results"]
    assert published["body_html"] == (
        '<p>Straight through <b>the worker</b> <a href="https://example.org" '
        'rel="nofollow ugc noopener">https://example.org</a></p>'
    )
    assert "ann@example.org" not in json.dumps(page)


def test_a_held_comment_reaches_the_moderators_inbox_over_smtp(stack, article):
    url = f"{stack.base_url}/api/v1/articles/{article['key']}/comments/"
    status, body = post_json(
        url,
        {
            "author_name": "Bob",
            "author_email": "bob@example.org",
            "body": f"Please look at {article['hold']} carefully",
        },
    )
    assert status == HTTPStatus.ACCEPTED

    message = stack.smtp.wait_for(
        lambda m: article["email"] in (m["To"] or "") and article["title"] in m["Subject"],
        timeout=60,
    )

    text = message.get_content()
    assert f"{stack.base_url}/admin/comments/comment/{body['id']}/change/" in text
    assert article["hold"] in text
    assert body["id"] not in approved_ids(stack, article["key"])
    rows = stack.sql(
        "SELECT status, checked_at IS NOT NULL FROM comments_comment WHERE id = %s", (body["id"],)
    )
    assert rows == [("pending", True)]


def test_a_held_comments_email_waits_out_an_smtp_outage(stack, article):
    url = f"{stack.base_url}/api/v1/articles/{article['key']}/comments/"
    stack.smtp.stop()
    try:
        status, body = post_json(
            url,
            {
                "author_name": "Cy",
                "author_email": "cy@example.org",
                "body": f"Outage test {article['hold']}",
            },
        )
        assert status == HTTPStatus.ACCEPTED
        failed = "SELECT last_error FROM comments_notification WHERE comment_id = %s"
        stack.wait_until(lambda: stack.sql(failed, (body["id"],)) not in ([], [("",)]), timeout=60)
    finally:
        stack.smtp.start()

    message = stack.smtp.wait_for(
        lambda m: article["email"] in (m["To"] or "") and article["title"] in m["Subject"],
        timeout=90,
    )
    assert f"/admin/comments/comment/{body['id']}/change/" in message.get_content()
    rows = stack.sql(
        "SELECT sent_at IS NOT NULL, attempts > 1 FROM comments_notification WHERE comment_id = %s",
        (body["id"],),
    )
    assert rows == [(True, True)]
