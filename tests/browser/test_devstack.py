from http import HTTPStatus

from devstack.services import fetch_json


def test_healthz_reports_database_and_broker_ok_on_the_embedded_defaults(dev_stack):
    status, body = fetch_json(f"{dev_stack.base_url}/healthz")

    assert status == HTTPStatus.OK
    assert body == {"database": "ok", "broker": "ok"}


def test_the_admin_login_page_loads_in_chromium(dev_stack, page):
    response = page.goto(f"{dev_stack.base_url}/admin/login/")

    assert response is not None
    assert response.status == HTTPStatus.OK
    assert page.locator("input[name=username]").is_visible()


def test_mail_goes_to_files_in_the_var_dir(dev_stack):
    dev_stack.manage("sendtestemail", "harness@example.org")

    sent = [m for m in dev_stack.emails() if m["To"] == "harness@example.org"]

    assert len(sent) == 1
    assert dev_stack.mail_dir.is_relative_to(dev_stack.var_dir)
    assert "Test email from" in sent[0]["Subject"]
