"""A moderator clears the queue with the keyboard alone and opens the dashboard, in
headless Chromium against the make run stack, with no console error or CSP violation."""

import json
import secrets
import uuid

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

SEED = """
import json
from django.contrib.auth.models import Group, User
from django.utils import timezone
from comments.models import Article, Comment
user = User.objects.create_user({username!r}, password={password!r}, is_staff=True)
user.groups.add(Group.objects.get(name="Moderators"))
article = Article.objects.get(key="welcome")
ids = []
for n in range(4):
    ids.append(Comment.objects.create(
        article=article, author_name=f"Held {tag} {{n}}", author_email=f"held{{n}}@example.org",
        body=f"Held comment {tag} number {{n}}.", body_html=f"<p>Held comment {{n}}</p>",
        checked_at=timezone.now(), reasons=["Held: test."], spam_score=0.5,
    ).pk)
print(json.dumps(ids))
"""
STATUSES = """
import json
from comments.models import Comment
ids = {ids!r}
rows = dict(Comment.objects.filter(pk__in=ids).values_list("pk", "status"))
events = {{
    pk: list(Comment.objects.get(pk=pk).events.values_list("action", flat=True)) for pk in ids
}}
print(json.dumps({{"status": [rows[pk] for pk in ids], "events": [events[pk] for pk in ids]}}))
"""


@pytest.fixture
def problems(page: Page) -> list[str]:
    """Collect console errors (CSP violations among them) and uncaught page errors; not the
    browser's own request for /favicon.ico, which the site does not serve."""
    seen: list[str] = []

    def console(message: ConsoleMessage) -> None:
        url = str(message.location.get("url", ""))
        if message.type == "error" and not url.endswith("/favicon.ico"):
            seen.append(f"{message.text} {url}")

    page.on("console", console)
    page.on("pageerror", lambda error: seen.append(str(error)))
    page.on("response", lambda r: seen.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return seen


@pytest.fixture
def held(dev_stack) -> tuple[str, str, str, list[int]]:
    """A new moderator and four held comments on the demo article, newest last."""
    username, password = f"mod-{uuid.uuid4().hex[:6]}", secrets.token_urlsafe(12)
    tag = uuid.uuid4().hex[:6]
    script = SEED.format(username=username, password=password, tag=tag)
    ids = json.loads(dev_stack.manage("shell", "-c", script).stdout.strip().splitlines()[-1])
    return username, password, tag, ids


def log_in(page: Page, dev_stack, username: str, password: str) -> None:
    page.goto(dev_stack.url("/admin/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def statuses(dev_stack, ids: list[int]) -> dict[str, list]:
    out = dev_stack.manage("shell", "-c", STATUSES.format(ids=ids)).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_a_moderator_clears_the_queue_with_the_keyboard_alone(dev_stack, page, problems, held):
    username, password, tag, ids = held
    log_in(page, dev_stack, username, password)
    page.goto(dev_stack.url("/admin/comments/moderationqueue/?queue=pending"))
    rows = page.locator(".queue-row", has_text=tag)
    expect(rows).to_have_count(4)
    newest_first = list(reversed(ids))
    status = page.get_by_role("status")

    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()

    page.keyboard.press("j")  # the newest comment
    expect(page.locator(f"#comment-{newest_first[0]}")).to_be_focused()
    expect(page.locator("#author-history")).to_contain_text(f"Held {tag} 3's history")
    page.keyboard.press("a")
    expect(status).to_contain_text("Approved: the comment by")
    expect(page.locator(f"#comment-{newest_first[1]}")).to_be_focused()
    page.keyboard.press("s")
    expect(page.locator(f"#comment-{newest_first[1]}")).to_have_attribute("data-status", "spam")
    page.keyboard.press("d")
    expect(page.locator(f"#comment-{newest_first[2]}")).to_have_attribute("data-status", "trash")
    page.keyboard.press("u")  # takes the trash back
    expect(status).to_contain_text("Undone")
    expect(page.locator(f"#comment-{newest_first[2]}")).to_have_attribute("data-status", "pending")
    page.keyboard.press("d")
    expect(page.locator(f"#comment-{newest_first[2]}")).to_have_attribute("data-status", "trash")
    page.keyboard.press("k")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator(f"#comment-{newest_first[3]}")).to_be_focused()
    page.keyboard.press("a")
    expect(page.locator(f"#comment-{newest_first[3]}")).to_have_attribute("data-status", "approved")

    found = statuses(dev_stack, newest_first)
    assert found["status"] == ["approved", "spam", "trash", "approved"]
    assert found["events"][2] == ["trash", "undo", "trash"]
    page.reload()
    expect(page.locator(".queue-row", has_text=tag)).to_have_count(0)
    assert problems == []


def test_without_javascript_the_buttons_still_work(dev_stack, browser, held):
    username, password, _, ids = held
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, dev_stack, username, password)
        page.goto(dev_stack.url("/admin/comments/moderationqueue/?queue=pending"))
        row = page.locator(f"#comment-{ids[0]}")
        row.get_by_role("button", name="Spam").click()
        expect(page.locator(".messagelist")).to_contain_text("Marked spam")
        page.get_by_role("button", name="Undo").click()
        expect(page.locator(".messagelist")).to_contain_text("Undone")
    finally:
        context.close()
    assert statuses(dev_stack, [ids[0]])["status"] == ["pending"]


def test_the_dashboard_loads_with_its_charts(dev_stack, page, problems, held):
    username, password, _, ids = held
    log_in(page, dev_stack, username, password)
    # This moderator acts once, so the actions-per-moderator chart has a bar whatever ran
    # before (alone, no moderator would have acted and that chart would say so instead).
    page.goto(dev_stack.url("/admin/comments/moderationqueue/?queue=pending"))
    page.locator(f"#comment-{ids[0]}").get_by_role("button", name="Approve").click()
    expect(page.locator(f"#comment-{ids[0]}")).to_have_attribute("data-status", "approved")
    dev_stack.manage("moderation_summary", "--days", "30")

    page.goto(dev_stack.url("/admin/comments/moderationday/"))

    expect(page.get_by_role("heading", name="Moderation dashboard")).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(6)
    expect(page.get_by_role("rowheader", name=username)).to_be_visible()
    expect(page.get_by_role("img", name="Comments per day by outcome")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert problems == []


def test_b_bans_the_author_from_the_keyboard(dev_stack, page, problems, held):
    username, password, _, ids = held
    log_in(page, dev_stack, username, password)
    page.goto(dev_stack.url("/admin/comments/moderationqueue/?queue=pending"))

    page.keyboard.press("j")
    page.keyboard.press("b")
    dialog = page.get_by_role("dialog", name="Ban the author")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("For", exact=True)).to_have_value("7")
    expect(dialog.get_by_label("the address held3@example.org")).to_be_focused()
    dialog.get_by_label("Reason").fill("spam run")
    page.keyboard.press("Enter")

    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("Banned held3@example.org until")
    expect(page.locator(f"#comment-{ids[3]}")).to_have_attribute("data-status", "spam")
    assert problems == []
