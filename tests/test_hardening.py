from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

pytestmark = pytest.mark.django_db

SITE = "https://www.rareearthexchanges.com"


@pytest.fixture
def cors_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [SITE]


def test_pages_carry_a_policy_that_allows_no_inline_script(client):
    response = client.get("/admin/login/")

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy


def test_pages_carry_the_protective_headers(client):
    response = client.get("/admin/login/")

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_csrf_cookie_is_httponly_and_same_site(client):
    response = client.get("/admin/login/")

    cookie = response.cookies["csrftoken"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_the_api_answers_a_configured_origin(client, cors_origin):
    response = client.options(
        "/api/v1/lists/",
        headers={"Origin": SITE, "Access-Control-Request-Method": "POST"},
    )

    assert response.headers["Access-Control-Allow-Origin"] == SITE


def test_the_api_ignores_other_origins(client, cors_origin):
    response = client.get("/api/v1/lists/", headers={"Origin": "https://evil.example"})

    assert "Access-Control-Allow-Origin" not in response.headers


def test_pages_outside_the_api_get_no_cors_headers(client, cors_origin):
    response = client.get("/subscribe/", headers={"Origin": SITE})

    assert "Access-Control-Allow-Origin" not in response.headers


def _login(client, password: str):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "mod", "password": password},
        REMOTE_ADDR="203.0.113.9",
    )


def test_admin_logins_lock_out_after_repeated_failures(client, settings):
    User.objects.create_user("mod", password="right-horse-battery", is_staff=True)

    answers = [_login(client, "wrong").status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    locked = _login(client, "right-horse-battery")

    assert answers[-2:] == [HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]

    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "_auth_user_id" not in client.session


def test_a_correct_admin_login_still_works_before_the_limit(client, settings):
    User.objects.create_user("mod", password="right-horse-battery", is_staff=True)

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "wrong")
    response = _login(client, "right-horse-battery")

    assert response.status_code == HTTPStatus.FOUND
    assert client.session["_auth_user_id"]


@pytest.mark.parametrize("password", ["password", "12345678", "short"])
def test_weak_moderator_passwords_are_refused(password):
    moderator = User(username="moderator", email="mod@example.org")

    with pytest.raises(ValidationError):
        validate_password(password, user=moderator)


def test_a_strong_moderator_password_is_accepted():
    validate_password("copper-lantern-quietly-47", user=User(username="moderator"))
