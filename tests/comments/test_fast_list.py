"""The cached public list answered without DRF: the same bytes and headers as the DRF view,
and every request DRF would read otherwise left to it."""

from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from comments import apis
from comments.fast_list import plain_get
from comments.models import Article
from comments.public_cache import public_list_cache_bump
from tests.comments.factories import ApprovedCommentFactory, ArticleFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/articles/a/comments/"
# Differs on every answer, whoever gives it.
PER_REQUEST = {"X-Request-ID"}


@pytest.fixture
def drf(mocker):
    """A spy on the DRF view: called when DRF answers, not when the lean path does."""
    return mocker.spy(apis.ArticleCommentsApi, "dispatch")


@pytest.fixture
def warm(api_client):
    """An article with approved comments whose first page the cache holds."""
    ApprovedCommentFactory.create_batch(3, article=ArticleFactory.create(key="a"))
    return api_client.get(URL)


def _headers(response) -> dict[str, str]:
    return {name: value for name, value in response.items() if name not in PER_REQUEST}


def test_a_cached_page_is_answered_without_drf_with_its_bytes_and_headers(api_client, warm, drf):
    again = api_client.get(URL)

    assert drf.call_count == 0
    assert again.status_code == HTTPStatus.OK
    assert again.content == warm.content
    assert _headers(again) == _headers(warm)
    assert again["Allow"] == "GET, POST, HEAD, OPTIONS"
    assert "Cookie" in again["Vary"]


def test_a_miss_is_left_to_drf_which_renders_and_caches_it(api_client, drf):
    ApprovedCommentFactory.create(article=ArticleFactory.create(key="a"))

    first = api_client.get(URL)
    second = api_client.get(URL)

    assert drf.call_count == 1
    assert second.content == first.content


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ({"HTTP_AUTHORIZATION": "Token not-a-token"}, HTTPStatus.UNAUTHORIZED),
        ({"HTTP_ACCEPT": "text/html"}, HTTPStatus.NOT_ACCEPTABLE),
        ({"HTTP_ACCEPT": "application/json; indent=4"}, HTTPStatus.OK),
        ({"HTTP_ACCEPT": ""}, HTTPStatus.NOT_ACCEPTABLE),
        ({"HTTP_COOKIE": "sessionid=unknown"}, HTTPStatus.OK),
    ],
)
def test_a_request_drf_reads_otherwise_is_left_to_it(api_client, warm, drf, extra, status):
    response = api_client.get(URL, **extra)

    assert drf.call_count == 1
    assert response.status_code == status


def test_head_options_and_a_query_string_are_left_to_drf(api_client, warm, drf):
    assert api_client.head(URL).status_code == HTTPStatus.OK
    assert api_client.options(URL).status_code == HTTPStatus.OK
    assert api_client.get(URL, {"cursor": "junk"}).status_code == HTTPStatus.NOT_FOUND

    assert drf.call_count == 3


@pytest.mark.parametrize(
    ("accept", "plain"),
    [
        (None, True),
        ("*/*", True),
        ("application/json", True),
        ("text/html, application/*", True),
        ("text/html", False),
        ("application/json;q=0.5", False),
        ("application/json, " + "x/y, " * 100, False),
    ],
)
def test_plain_get_reads_accept_as_drf_s_negotiation_would(accept, plain):
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    assert plain_get(RequestFactory().get(URL, **extra)) is plain


def test_plain_get_refuses_other_methods_credentials_and_query_strings():
    factory = RequestFactory()
    assert plain_get(factory.post(URL)) is False
    assert plain_get(factory.get(URL, {"cursor": "x"})) is False
    assert plain_get(factory.get(URL, HTTP_AUTHORIZATION="Token x")) is False
    assert plain_get(factory.get(URL, HTTP_COOKIE="sessionid=x")) is False
    assert plain_get(factory.get(URL, HTTP_COOKIE="csrftoken=x")) is True


def test_get_values_reads_keys_in_order_as_get_many_does(redis_cache):
    cache.set_many({"a": b"bytes", "b": "text", "c": 7})

    values = cache.get_values(["c", "missing", "a", "b"])  # type: ignore[attr-defined]
    assert values == [7, None, b"bytes", "text"]
    assert cache.get_many(["a", "b", "c"]) == {"a": b"bytes", "b": "text", "c": 7}


def test_on_redis_a_hit_is_lean_and_a_change_shows_at_once(redis_cache, api_client, drf):
    ApprovedCommentFactory.create(article=ArticleFactory.create(key="a"))
    first = api_client.get(URL)
    assert api_client.get(URL).content == first.content
    assert drf.call_count == 1

    ApprovedCommentFactory.create(article=ArticleFactory.create(key="b"))
    ApprovedCommentFactory.create(article=Article.objects.get(key="a"))
    public_list_cache_bump(article_key="a")  # what the services do after commit

    assert len(api_client.get(URL).json()["results"]) == 2
    assert drf.call_count == 2
