"""A reader signs up in headless Chromium on the `make run` defaults and confirms from
the development outbox."""

import uuid

CONFIRM_LINK = "a[href*='/subscriptions/confirm/']"


def _confirmation_in_outbox(page, base_url: str, email: str):
    page.goto(f"{base_url}/dev/outbox/")
    message = page.locator("article.outbox-message", has_text=email)
    return message.locator(CONFIRM_LINK).first if message.count() else None


def test_a_reader_signs_up_and_confirms_from_the_dev_outbox(dev_stack, page):
    email = f"browser-{uuid.uuid4().hex[:8]}@example.org"
    page.goto(f"{dev_stack.base_url}/subscribe/")

    page.get_by_label("Your email address").fill(email)
    page.locator("input[name=consent]").check()
    # The box refuses forms sent faster than REEX_FORM_MIN_SECONDS (3 s by default).
    page.wait_for_timeout(3500)
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()

    link = dev_stack.wait_until(
        lambda: _confirmation_in_outbox(page, dev_stack.base_url, email), timeout=60
    )
    link.click()
    page.get_by_role("heading", name="Confirm your subscription").wait_for()
    assert email in page.content()

    page.get_by_role("button", name="Confirm my subscription").click()
    page.get_by_role("heading", name="Welcome aboard!").wait_for()
    assert "Daily News Update" in page.content()
    assert "confirmed" in page.content()
