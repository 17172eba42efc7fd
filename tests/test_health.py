from http import HTTPStatus

import pytest

pytestmark = pytest.mark.django_db


def test_it_reports_database_and_broker_ok(client):
    response = client.get("/healthz")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_it_answers_503_naming_the_broker_when_it_is_down(client, mocker):
    mocker.patch("reex.health.broker_ok", return_value=False)

    response = client.get("/healthz")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {"database": "ok", "broker": "down"}


def test_it_answers_503_naming_the_database_when_it_is_down(client, mocker):
    mocker.patch("reex.health.database_ok", return_value=False)

    response = client.get("/healthz")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["database"] == "down"
