"""Database outages answer 503 (JSON on the API, a plain page elsewhere); others are left alone."""

import json
from http import HTTPStatus

import pytest
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory
from rest_framework.exceptions import NotFound

from reex.errors import (
    UNAVAILABLE,
    DatabaseUnavailableMiddleware,
    api_exception_handler,
    server_error,
)

DOWN = OperationalError('connection to server at "127.0.0.1" failed: Connection refused')


@pytest.fixture
def middleware() -> DatabaseUnavailableMiddleware:
    return DatabaseUnavailableMiddleware(lambda request: pytest.fail("not called"))


def test_the_api_handler_answers_503_json_when_the_database_is_down(rf: RequestFactory):
    response = api_exception_handler(DOWN, {"request": rf.get("/api/v1/lists/")})

    assert response is not None
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.data == {"detail": UNAVAILABLE}
    assert response["Retry-After"] == "30"


def test_the_api_handler_treats_a_lost_connection_as_an_outage_too(rf: RequestFactory):
    response = api_exception_handler(InterfaceError("connection already closed"), {})

    assert response is not None
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE


def test_the_api_handler_leaves_other_errors_to_drf(rf: RequestFactory):
    response = api_exception_handler(NotFound(), {"request": rf.get("/api/")})

    assert response is not None
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_the_api_handler_lets_a_programming_error_surface(rf: RequestFactory):
    assert api_exception_handler(ValueError("bug"), {"request": rf.get("/api/")}) is None


def test_a_page_gets_the_plain_503_page(rf: RequestFactory, middleware):
    response = middleware.process_exception(rf.get("/articles/welcome/"), DOWN)

    assert response is not None
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    assert "<h1>Temporarily unavailable</h1>" in page
    assert "Connection refused" not in page


def test_an_api_view_outside_drf_gets_json(rf: RequestFactory, middleware):
    response = middleware.process_exception(rf.get("/api/v1/whatever/"), DOWN)

    assert response is not None
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"detail": UNAVAILABLE}


def test_the_middleware_leaves_other_errors_to_django(rf: RequestFactory, middleware):
    assert middleware.process_exception(rf.get("/"), KeyError("bug")) is None


def test_the_outage_is_logged_in_one_line_without_a_traceback(rf, middleware, caplog):
    middleware.process_exception(rf.post("/subscribe/"), DOWN)

    (record,) = [r for r in caplog.records if r.name == "reex.errors"]
    assert record.getMessage().startswith("database unavailable for POST /subscribe/")
    assert record.exc_info is None


def test_the_500_handler_answers_503_for_an_outage_raised_outside_a_view(rf: RequestFactory):
    try:
        raise DOWN
    except OperationalError:
        response = server_error(rf.get("/admin/"))

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE


def test_the_500_handler_renders_the_plain_500_page(rf: RequestFactory):
    try:
        raise RuntimeError("bug")
    except RuntimeError:
        response = server_error(rf.get("/"))

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert "<h1>Something went wrong</h1>" in response.content.decode()
    assert "bug" not in response.content.decode()


class _DatabaseDownMiddleware:
    """Stands for a middleware (sessions, auth) that needs the database before any view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise DOWN


def test_an_outage_raised_outside_a_view_is_a_503_page_too(client, settings):
    settings.MIDDLEWARE = ["tests.faults.test_errors._DatabaseDownMiddleware"]
    client.raise_request_exception = False

    response = client.get("/subscribe/")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert b"Traceback" not in response.content
