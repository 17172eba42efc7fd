"""reex.plain_json: which requests DRF would read as a plain anonymous JSON POST."""

import pytest
from django.conf import settings
from django.test import RequestFactory
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from reex.plain_json import accepts_json, is_plain_json_post, json_body

JSON = "application/json"


def _post(body: bytes = b"{}", content_type: str = JSON, path: str = "/api/x/", **extra):
    return RequestFactory().generic("POST", path, body, content_type=content_type, **extra)


def test_an_anonymous_json_post_is_plain():
    assert is_plain_json_post(_post())


@pytest.mark.parametrize("content_type", [JSON, f"{JSON}; charset=utf-8", f"{JSON};charset=utf-8"])
def test_json_in_utf_8_is_plain(content_type):
    assert is_plain_json_post(_post(content_type=content_type))


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", f"{JSON}; charset=latin-1", "text/json"],
)
def test_another_media_type_or_charset_is_left_to_drf(content_type):
    assert not is_plain_json_post(_post(content_type=content_type))


def test_another_method_is_left_to_drf():
    request = RequestFactory().generic("PUT", "/api/x/", b"{}", content_type=JSON)
    assert not is_plain_json_post(request)


def test_credentials_or_a_session_are_left_to_drf():
    assert not is_plain_json_post(_post(HTTP_AUTHORIZATION="Token abc"))
    request = _post()
    request.COOKIES[settings.SESSION_COOKIE_NAME] = "s"
    assert not is_plain_json_post(request)


def test_a_query_string_is_left_to_drf():
    assert not is_plain_json_post(_post(path="/api/x/?format=api"))


@pytest.mark.parametrize(
    "accept", [None, "*/*", JSON, "application/*", "text/html, application/json", "text/html,*/*"]
)
def test_an_accept_that_takes_json_is_plain(accept):
    assert accepts_json(accept)
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    assert is_plain_json_post(_post(**extra))


@pytest.mark.parametrize("accept", ["text/html", f"{JSON}; q=0.5", "text/*", "*/*," * 100])
def test_an_accept_drf_would_weigh_or_refuse_is_left_to_drf(accept):
    assert not accepts_json(accept)
    assert not is_plain_json_post(_post(HTTP_ACCEPT=accept))


@pytest.mark.parametrize("accept", ["*/*", JSON, "application/*", "text/html, application/json"])
def test_drf_picks_its_json_renderer_for_every_plain_accept(accept):
    request = Request(_post(HTTP_ACCEPT=accept))
    renderer, _ = DefaultContentNegotiation().select_renderer(request, [JSONRenderer()])
    assert isinstance(renderer, JSONRenderer)


def test_the_body_is_read_as_drfs_json_parser_reads_it():
    assert json_body(_post(b'{"a": [1, 2.5, "\\u00e9"]}')) == {"a": [1, 2.5, "\u00e9"]}


@pytest.mark.parametrize(
    "body", [b"{", b'{"a": NaN}', b'{"a": Infinity}', b"\xff\xfe{}", b"[" * 100_000]
)
def test_a_body_drf_would_refuse_is_none(body):
    assert json_body(_post(body)) is None
