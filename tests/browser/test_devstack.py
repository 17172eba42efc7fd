from http import HTTPStatus

from tests.support.services import fetch_json


def test_healthz_reports_database_and_broker_ok_on_the_embedded_defaults(dev_stack):
    status, body = fetch_json(f"{dev_stack.base_url}/healthz")

    assert status == HTTPStatus.OK
    assert body == {"database": "ok", "broker": "ok"}


def test_the_admin_login_page_loads_in_chromium(dev_stack, page):
    response = page.goto(f"{dev_stack.base_url}/admin/login/")

    assert response is not None
    assert response.status == HTTPStatus.OK
    assert page.locator("input[name=username]").is_visible()
