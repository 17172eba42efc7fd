"""The Big List of Naughty Strings through every field of every form and API operation.

Each string goes into one field while the others stay valid. No answer may be a 5xx; a
string that is refused gets an error on that very field; one that is accepted is stored
as the service documents (trimmed, the email lower-cased) and comes back identical from
the public and moderation APIs once a moderator approved it.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from comments.models import Article, Comment
from comments.tokens import form_timestamp_make
from subscriptions.forms import form_timestamp
from subscriptions.models import Subscriber
from tests.security.conftest import naughty_strings

pytestmark = pytest.mark.django_db

COMMENT_FIELDS = ["author_name", "author_email", "author_url", "body"]
# What comments.services.comment_create does to each field before it validates.
STORED_AS: dict[str, Callable[[str], str]] = {
    "author_name": str.strip,
    "author_email": lambda value: value.strip().lower(),
    "author_url": str.strip,
    "body": lambda value: value.replace("\r\n", "\n").replace("\r", "\n").strip(),
}


def _comment_fields(index: int, field: str, value: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "author_name": f"Reader {index}",
        "author_email": f"reader{index}@example.org",
        "author_url": "",
        "body": f"Comment {index} on rare earth supply.",
    }
    fields[field] = value
    return fields


def _api_post(client: APIClient, index: int, field: str, value: str) -> tuple[int, Any]:
    response = client.post(
        "/api/v1/articles/hostile/comments/", _comment_fields(index, field, value), format="json"
    )
    body = response.json() if response["Content-Type"] == "application/json" else {}
    comment_id = body.get("id") if response.status_code == HTTPStatus.ACCEPTED else None
    errors = body if response.status_code == HTTPStatus.BAD_REQUEST else {}
    return response.status_code, (comment_id, errors)


def _form_post(client: Client, index: int, field: str, value: str) -> tuple[int, Any]:
    data = {**_comment_fields(index, field, value), "ts": form_timestamp_make(), "homepage": ""}
    response = client.post("/articles/hostile/", data)
    if response.status_code == HTTPStatus.FOUND:
        comment_id = int(response["Location"].rpartition("#comment-")[2])
        return response.status_code, (comment_id, {})
    form = response.context["form"] if response.context else None
    return response.status_code, (None, form.errors if form is not None else {})


def _send_all(
    post: Callable[[int, str, str], tuple[int, Any]], field: str
) -> tuple[dict[int, str], list[tuple[str, object]]]:
    """Send every naughty string in ``field``; return accepted ids and any problems."""
    accepted: dict[int, str] = {}
    problems: list[tuple[str, object]] = []
    for index, value in enumerate(naughty_strings()):
        status, (comment_id, errors) = post(index, field, value)
        if comment_id is not None:
            accepted[comment_id] = value
        elif status == HTTPStatus.CONFLICT and field == "body":
            continue  # two strings that trim to the same body: a duplicate, refused
        elif status != HTTPStatus.BAD_REQUEST or field not in errors:
            problems.append((value, (status, dict(errors))))
    return accepted, problems


def _approve_all(api: APIClient, ids: list[int]) -> list[tuple[int, int]]:
    failed = []
    for comment_id in ids:
        response = api.post(f"/api/v1/moderation/comments/{comment_id}/approve/")
        if response.status_code != HTTPStatus.OK:
            failed.append((comment_id, response.status_code))
    return failed


def _all_pages(api: APIClient, url: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    while url:
        page = api.get(url).json()
        results.extend(page["results"])
        url = page["next"]
    return results


def _stored_problems(field: str, accepted: dict[int, str]) -> list[tuple[str, str]]:
    stored = dict(Comment.objects.filter(pk__in=accepted).values_list("pk", field))
    expected = STORED_AS[field]
    return [(value, stored[pk]) for pk, value in accepted.items() if stored[pk] != expected(value)]


def _returned_problems(
    api: APIClient, field: str, accepted: dict[int, str]
) -> list[tuple[int, str, Any]]:
    public = {row["id"]: row for row in _all_pages(api, "/api/v1/articles/hostile/comments/")}
    moderation = {
        row["id"]: row for row in _all_pages(api, "/api/v1/moderation/comments/?status=approved")
    }
    stored = dict(Comment.objects.filter(pk__in=accepted).values_list("pk", field))
    problems = []
    for pk in accepted:
        if moderation[pk][field] != stored[pk]:
            problems.append((pk, "moderation", moderation[pk][field]))
        if field in ("author_name", "author_url") and public[pk][field] != stored[pk]:
            problems.append((pk, "public", public[pk][field]))
        if field == "body" and not public[pk]["body_html"]:
            problems.append((pk, "public body_html empty", stored[pk]))
    return problems


@pytest.fixture
def moderator_api(moderator_token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {moderator_token}")
    return api


@pytest.mark.parametrize("door", ["api", "form"])
@pytest.mark.parametrize("field", COMMENT_FIELDS)
def test_a_naughty_comment_field_is_stored_intact_or_refused_on_that_field(
    article: Article, moderator_api: APIClient, field: str, door: str
) -> None:
    if door == "api":
        api = APIClient()
        accepted, problems = _send_all(lambda i, f, v: _api_post(api, i, f, v), field)
    else:
        client = Client()
        accepted, problems = _send_all(lambda i, f, v: _form_post(client, i, f, v), field)

    assert problems == []
    if field in ("author_name", "body"):  # most naughty strings are fine names and texts
        assert len(accepted) > len(naughty_strings()) // 2
    assert _stored_problems(field, accepted) == []
    assert _approve_all(moderator_api, list(accepted)) == []
    assert _returned_problems(moderator_api, field, accepted) == []


def _subscribe_api(client: APIClient, value: str) -> tuple[int, dict[str, Any]]:
    response = client.post(
        "/api/v1/subscriptions/", {"email": value, "consent": True}, format="json"
    )
    return response.status_code, response.json()


def _subscribe_form(client: Client, value: str) -> tuple[int, dict[str, Any]]:
    data = {"email": value, "consent": "on", "ts": form_timestamp(), "website": ""}
    response = client.post("/subscribe/", data)
    if response.status_code == HTTPStatus.FOUND:
        return HTTPStatus.ACCEPTED, {}
    return response.status_code, dict(response.context["form"].errors)


@pytest.mark.parametrize("door", ["api", "form"])
def test_a_naughty_email_subscribes_intact_or_gets_an_email_error(db, door: str) -> None:
    api, client = APIClient(), Client()
    problems, accepted = [], []
    for value in naughty_strings():
        if door == "api":
            status, errors = _subscribe_api(api, value)
        else:
            status, errors = _subscribe_form(client, value)
        if status == HTTPStatus.ACCEPTED:
            accepted.append(value)
        elif status != HTTPStatus.BAD_REQUEST or "email" not in errors:
            problems.append((value, status, errors))

    assert problems == []
    stored = set(Subscriber.objects.values_list("email", flat=True))
    assert [value for value in accepted if value.strip().lower() not in stored] == []
