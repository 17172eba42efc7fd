"""Bodies too large, wrong media types, malformed JSON and tampered tokens: a clear 4xx."""

from __future__ import annotations

import io
import json
from http import HTTPStatus
from urllib.parse import quote

import pytest
from django.core import signing
from django.test import Client, RequestFactory

from comments.models import Article, Comment
from comments.tokens import stop_token_make
from reex.middleware import ApiJsonErrorsMiddleware, RequestBodyLimitMiddleware
from subscriptions import tokens
from tests.factories import ApprovedCommentFactory, SubscriberFactory
from tests.security.conftest import naughty_strings

pytestmark = pytest.mark.django_db

TEN_MB = 10 * 1024 * 1024
API_POSTS = [
    "/api/v1/articles/hostile/comments/",
    "/api/v1/subscriptions/",
    "/api/v1/subscriptions/confirm/",
    "/api/v1/subscriptions/unsubscribe/",
]
FORM_POSTS = ["/articles/hostile/", "/subscribe/"]


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, size: int | None = -1) -> bytes:
        raise AssertionError("the body was read")

    def readline(self, size: int | None = -1) -> bytes:
        raise AssertionError("the body was read")


def _post(client: Client, path: str, body: bytes, content_type: str = "application/json"):
    return client.generic("POST", path, body, content_type=content_type)


@pytest.mark.parametrize("path", API_POSTS + FORM_POSTS)
def test_a_10_mb_body_is_refused_with_413(client: Client, article: Article, path: str) -> None:
    response = _post(client, path, b'{"body": "' + b"x" * TEN_MB + b'"}')

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert not Comment.objects.exists()


@pytest.mark.parametrize("path", API_POSTS)
def test_the_api_says_413_in_json(client: Client, article: Article, path: str) -> None:
    response = _post(client, path, b"{" + b" " * TEN_MB + b"}")

    assert response["Content-Type"] == "application/json"
    assert "too large" in response.json()["detail"]


def test_a_reader_page_says_413_in_plain_text(client: Client, article: Article) -> None:
    response = _post(client, "/articles/hostile/", b"body=" + b"x" * TEN_MB, "text/plain")

    assert response["Content-Type"].startswith("text/plain")


def test_the_413_comes_from_the_length_alone_before_the_body_is_read() -> None:
    request = RequestFactory().post("/api/v1/subscriptions/", b"", content_type="application/json")
    request.META["CONTENT_LENGTH"] = str(TEN_MB)
    request.META["wsgi.input"] = Unreadable()
    middleware = RequestBodyLimitMiddleware(lambda request: pytest.fail("the view ran"))

    response = middleware(request)

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def test_a_body_just_under_the_limit_reaches_the_view(client: Client, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"email": "a" * 900 + "@example.org", "consent": True}).encode()[:1000]

    response = _post(client, "/api/v1/subscriptions/", body)

    assert response.status_code == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize("path", API_POSTS)
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ],
)
def test_the_api_refuses_other_media_types_with_415(
    client: Client, article: Article, path: str, content_type: str
) -> None:
    response = _post(client, path, b"email=a%40example.org&consent=true", content_type)

    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert "detail" in response.json()


MALFORMED = {
    "truncated": b'{"author_name": "Ann", ',
    "not utf-8": b'\xff\xfe{"a": 1}',
    "trailing comma": b'{"email": "a@example.org",}',
    "single quotes": b"{'email': 'a@example.org'}",
    "nan": b'{"consent": NaN}',
    "nested arrays": b"[" * 100_000,
    "nested objects": b'{"a":' * 50_000,
    "a list": b"[]",
    "a number": b"1",
    "null": b"null",
    "empty": b"",
}


@pytest.mark.parametrize("path", API_POSTS)
@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_json_gets_a_json_400(
    client: Client, article: Article, path: str, body: bytes
) -> None:
    response = _post(client, path, body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert isinstance(response.json(), dict)
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "path",
    ["/api/v1/articles/not%20a%20slug/", "/api/v1/moderation/comments/x/approve/", "/api/v1/nope/"],
)
def test_an_api_path_django_refuses_answers_json(client: Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Not Found"}


def test_json_errors_keep_the_allow_header(client: Client) -> None:
    response = client.delete("/api/v1/lists/")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert "GET" in response["Allow"]


def test_pages_outside_the_api_keep_their_html_errors(client: Client) -> None:
    response = client.get("/articles/no-such-article/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"].startswith("text/html")


def test_the_json_middleware_leaves_successes_alone(rf: RequestFactory) -> None:
    from django.http import HttpResponse

    middleware = ApiJsonErrorsMiddleware(lambda request: HttpResponse("<p>ok</p>"))

    assert middleware(rf.get("/api/v1/lists/")).content == b"<p>ok</p>"


# --- tokens ------------------------------------------------------------------------


def _tampered(token: str) -> list[str]:
    value, _, signature = token.rpartition(":")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return [
        f"{value}:{flipped}",
        token[:-1],
        token + "x",
        token.upper(),
        f"{value}:",
        signature,
        value,
        token.replace(":", "."),
    ]


def _hostile_tokens() -> list[str]:
    subscriber = SubscriberFactory.create()
    confirm = tokens.confirmation_token_make(subscriber_id=subscriber.pk, nonce="n")
    unsubscribe = tokens.unsubscribe_token_make(subscriber_id=subscriber.pk, list_id=1)
    foreign = [
        # Genuine signatures, wrong salt or wrong shape inside.
        signing.dumps({"s": subscriber.pk, "n": "n"}),
        signing.TimestampSigner(salt="subscriptions.confirm").sign_object([1, 2]),
        signing.TimestampSigner(salt="subscriptions.confirm").sign_object({"s": "1", "n": 2}),
        signing.Signer(salt="subscriptions.unsubscribe").sign_object({"s": True, "l": None}),
        signing.Signer(salt="subscriptions.unsubscribe").sign_object("plain"),
        signing.dumps({"c": "x", "e": None}, salt="comments.stop-notifications"),
        signing.dumps([1], salt="comments.stop-notifications"),
    ]
    stop = stop_token_make(comment_id=1, email="a@example.org")
    return [
        *_tampered(confirm),
        *_tampered(unsubscribe),
        *_tampered(stop),
        *foreign,
        *naughty_strings(),
    ]


def test_tampered_tokens_get_400_from_the_api(client: Client) -> None:
    problems = []
    for token in _hostile_tokens():
        for path in ("/api/v1/subscriptions/confirm/", "/api/v1/subscriptions/unsubscribe/"):
            response = client.post(path, {"token": token}, content_type="application/json")
            if response.status_code != HTTPStatus.BAD_REQUEST or "token" not in response.json():
                problems.append((path, token, response.status_code))
    assert problems == []


def test_tampered_tokens_in_links_get_a_4xx_page(client: Client) -> None:
    ApprovedCommentFactory.create()
    problems: list[tuple[object, ...]] = []
    for token in _hostile_tokens():
        quoted = quote(token, safe="")
        for path in (
            f"/subscriptions/confirm/{quoted}/",
            f"/subscriptions/unsubscribe/{quoted}/",
            f"/comments/stop-notifications/{quoted}/",
        ):
            for method in (client.get, client.post):
                status = method(path).status_code
                if status not in (HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND):
                    problems.append((method.__name__, path, status))
        status = client.post(f"/subscriptions/confirm/{quoted}/resend/").status_code
        if status not in (HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND):
            problems.append(("post", "resend", token, status))
    assert problems == []
