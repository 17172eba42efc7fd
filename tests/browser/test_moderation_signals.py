"""Readers report a comment until it is hidden; a banned address's next comment is spam."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from devstack.base import MANAGE, PYTHON, healthy
from devstack.ports import free_port
from devstack.processes import ManagedProcess
from devstack.services import REPO, START_TIMEOUT
from tests.browser.conftest import DEFAULT_TIMEOUT_MS

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from devstack.dev import DevStack

MIN_SECONDS = 3  # REEX_FORM_MIN_SECONDS, the embedded default
PASSWORD = "correct horse battery staple"

NEW_COMMENT = """
from django.utils import timezone
from comments.models import Comment
from comments.services import article_upsert
article, _ = article_upsert(key={key!r}, title="Reports", url="", published_at=timezone.now(),
                            comments_open=True)
c = Comment.objects.create(article=article, author_name="Troll", author_email="t@example.org",
                           body={body!r}, body_html="<p>" + {body!r} + "</p>",
                           status="approved", checked_at=timezone.now())
"""
MODERATOR = """
from django.contrib.auth.models import Group, User
user = User.objects.create_user({name!r}, f"{name}@example.org", {password!r}, is_staff=True)
user.groups.add(Group.objects.get(name="Moderators"))
"""
STATUS = """
from comments.models import Comment
c = Comment.objects.filter(author_email={email!r}).first()
print(c.status if c else "-", c.reasons if c else "")
"""


@pytest.fixture
def proxied_url(dev_stack: DevStack) -> Iterator[str]:
    """One more web process of the dev stack behind a trusted "proxy" (the test): each
    browser context says which reader it is with X-Forwarded-For."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**dev_stack.env, "REEX_TRUSTED_PROXIES": "127.0.0.1/32", "REEX_BASE_URL": url}
    argv = [PYTHON, MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"]
    process = ManagedProcess.start(
        name="web-proxied", argv=argv, env=env, cwd=REPO, log_dir=dev_stack.log_dir
    )
    try:
        healthy(url)(process, START_TIMEOUT)
        yield url
    finally:
        process.stop()


def report_as(browser: Browser, url: str, *, ip: str, comment_text: str) -> None:
    context = browser.new_context(extra_http_headers={"X-Forwarded-For": ip})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(url)
        comment = page.locator(".comment", has_text=comment_text)
        comment.get_by_role("link", name="Report").click()
        page.get_by_role("radio", name="Abusive").check()
        page.get_by_role("textbox").fill("Insults another reader.")
        page.get_by_role("button", name="Send report").click()
        expect(page.locator(".messages")).to_contain_text("Thank you for your report")
    finally:
        context.close()


def test_readers_report_a_comment_until_it_is_hidden(dev_stack, browser, proxied_url):
    key, body = f"reports-{uuid.uuid4().hex[:8]}", f"You are all idiots {uuid.uuid4().hex[:6]}"
    dev_stack.manage("shell", "-c", NEW_COMMENT.format(key=key, body=body))
    url = f"{proxied_url}/articles/{key}/"

    for n in (1, 2):
        report_as(browser, url, ip=f"198.51.100.{n}", comment_text=body)
    check = browser.new_page()
    check.goto(url)
    expect(check.locator("#comments")).to_contain_text(body)

    report_as(browser, url, ip="198.51.100.3", comment_text=body)  # REEX_FLAGS_TO_HOLD: 3
    check.reload()
    expect(check.get_by_text("No comments yet")).to_be_visible()
    expect(check.locator("#comments")).not_to_contain_text(body)
    check.close()


def test_a_banned_addresss_next_comment_lands_in_spam(dev_stack, page):
    name = f"banmod{uuid.uuid4().hex[:6]}"
    dev_stack.manage("shell", "-c", MODERATOR.format(name=name, password=PASSWORD))
    page.goto(f"{dev_stack.base_url}/admin/comments/ban/add/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    email = f"banned-{uuid.uuid4().hex[:6]}@example.org"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Reason").fill("Spam run")
    page.get_by_label("Duration").select_option(label="A week")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    page.goto(f"{dev_stack.base_url}/articles/welcome/")
    loaded = time.monotonic()
    page.get_by_role("textbox", name="Name").fill("Banned Author")
    page.get_by_role("textbox", name="Email").fill(email.upper())
    page.get_by_role("textbox", name="Comment").fill("A perfectly polite comment.")
    page.wait_for_timeout(max(0.0, MIN_SECONDS + 0.5 - (time.monotonic() - loaded)) * 1000)
    page.get_by_role("button", name="Post comment").click()
    # They are told what everyone is told.
    expect(page.locator(".messages")).to_contain_text("Your comment is awaiting moderation.")

    def status() -> str:
        out = dev_stack.manage("shell", "-c", STATUS.format(email=email)).stdout
        last = out.strip().splitlines()[-1]  # the shell may log before it
        return last if last.startswith("spam") else ""

    assert "banned" in dev_stack.wait_until(status, timeout=60, interval=1)
