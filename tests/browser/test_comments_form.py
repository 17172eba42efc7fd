"""A reader comments on the demo article in headless Chromium, against the make run stack."""

import time
import uuid

from playwright.sync_api import expect

MIN_SECONDS = 3  # REEX_FORM_MIN_SECONDS, the embedded default make run uses


def test_a_reader_sees_field_errors_then_their_comment_awaiting_moderation(dev_stack, page):
    page.goto(f"{dev_stack.base_url}/articles/welcome/")
    loaded = time.monotonic()
    expect(page.get_by_role("heading", name="Welcome to reex")).to_be_visible()
    expect(page.get_by_text("3 Comments")).to_be_visible()

    page.get_by_role("button", name="Post comment").click()

    errors = page.locator("#respond .errorlist")
    expect(errors).to_have_count(3)
    expect(errors.first).to_contain_text("This field is required.")

    body = f"Reading this from a browser {uuid.uuid4().hex[:6]}."
    page.get_by_role("textbox", name="Name").fill("Browser Reader")
    page.get_by_role("textbox", name="Email").fill("browser@example.org")
    page.get_by_role("textbox", name="Comment").fill(body)
    page.wait_for_timeout(max(0.0, MIN_SECONDS + 0.5 - (time.monotonic() - loaded)) * 1000)
    page.get_by_role("button", name="Post comment").click()

    expect(page.locator(".messages")).to_contain_text("Your comment is awaiting moderation.")
    expect(page.locator("#comments")).to_contain_text(body)
    expect(page.locator("#respond .errorlist")).to_have_count(0)

    # The worker (auto mode) approves it: after a reload it is published, no longer pending.
    def published() -> bool:
        page.reload()
        return page.locator(".comment.pending").count() == 0 and body in page.content()

    dev_stack.wait_until(published, timeout=60, interval=1)
    expect(page.get_by_text("4 Comments")).to_be_visible()
