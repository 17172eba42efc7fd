"""Reader pages, admin and the API docs work under the Content Security Policy."""

import secrets

import pytest
from playwright.sync_api import Page, expect

READER_PAGES = ["/articles/welcome/", "/subscribe/"]
ADMIN_PAGES = ["/admin/", "/admin/comments/comment/", "/admin/comments/comment/1/change/"]


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    """Collect the console errors with which Chromium reports a blocked resource."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


@pytest.fixture(scope="module")
def admin_password(dev_stack) -> str:
    password = secrets.token_urlsafe(16)
    script = (
        "from django.contrib.auth.models import User\n"
        "User.objects.filter(username='csp-admin').delete()\n"
        f"User.objects.create_superuser('csp-admin', 'csp@example.org', {password!r})\n"
    )
    dev_stack.manage("shell", "-c", script)
    return password


@pytest.mark.parametrize("path", READER_PAGES)
def test_reader_pages_load_everything_they_need(dev_stack, page, csp_violations, path):
    response = page.goto(dev_stack.url(path))

    assert (
        response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    )
    page.wait_for_load_state("networkidle")
    assert csp_violations == []


def test_admin_works_under_the_policy(dev_stack, page, csp_violations, admin_password):
    page.goto(dev_stack.url("/admin/login/"))
    page.get_by_label("Username").fill("csp-admin")
    page.get_by_label("Password").fill(admin_password)
    page.get_by_role("button", name="Log in").click()
    expect(
        page.get_by_role("link", name="Log out").or_(page.get_by_text("Log out"))
    ).to_be_visible()

    for path in ADMIN_PAGES:
        page.goto(dev_stack.url(path))
        page.wait_for_load_state("networkidle")

    assert csp_violations == []


def test_the_api_docs_render_from_local_assets(dev_stack, page, csp_violations):
    page.goto(dev_stack.url("/api/docs/"))

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("reex API")
    assert csp_violations == []
