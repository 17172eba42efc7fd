"""The embed on a news site of another origin with a strict CSP, in headless Chromium.

The site (tests/browser/host_site.py) allows scripts, styles and connections from reex only
and nothing inline. Every test fails on a CSP violation or a console error; the only console
lines allowed are Chromium's own notes of the HTTP statuses a test provokes on purpose
(a 400 for field errors, a 429, a 404 for an article not yet created, a 409 for an edit
refused, a reset connection).
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, Request, Route, expect

from tests.browser.host_site import HostSite

AWAITING = "Your comment is awaiting moderation."
# Posting twice from one address within REEX_COMMENT_FLOOD_SECONDS (15) or past
# REEX_COMMENT_RATE (10/min) is answered 429; the embed waits it out with the reader.
WAIT_OUT_MS = 75_000
PROVOKED = re.compile(
    r"^Failed to load resource: "
    r"(the server responded with a status of (400|404|409|429)|net::ERR_(FAILED|CONNECTION_RESET))"
)
# Seen by the host page itself: the listener runs before any page script (CSP permitting
# or not, as Playwright injects it), and keeps what it saw on the window.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


@dataclass
class Watched:
    page: Page
    console: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__violations || []")


@pytest.fixture
def site(dev_stack, host_site: HostSite) -> HostSite:
    assert host_site.reex_origin == dev_stack.base_url
    return host_site


@pytest.fixture
def watched(page: Page) -> Iterator[Watched]:
    watch = Watched(page)
    page.add_init_script(WATCH_VIOLATIONS)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not PROVOKED.match(message.text):
            watch.console.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: watch.console.append(f"uncaught: {error}"))
    yield watch
    assert watch.violations() == []
    assert watch.console == []


def comments(page: Page) -> Locator:
    return page.locator("[data-reex-comments]")


def api(site: HostSite, path: str) -> dict:
    with urllib.request.urlopen(site.reex_origin + path, timeout=10) as answer:  # noqa: S310
        return json.load(answer)


def textbox(box: Locator, name: str) -> Locator:
    return box.get_by_role("textbox", name=name, exact=True)


def fill_form(box: Locator, *, name: str, email: str, body: str) -> None:
    textbox(box, "Name").fill(name)
    textbox(box, "Email").fill(email)
    textbox(box, "Comment").fill(body)


def post_until_accepted(box: Locator) -> None:
    """Press Post comment; if told to wait (429), wait as told and press it again."""
    button = box.get_by_role("button", name="Post comment")
    notice = box.locator("form > .reex-notice")
    for _ in range(3):
        button.click()
        expect(notice).to_contain_text(re.compile(f"{AWAITING}|Please wait"))
        if AWAITING in notice.inner_text():
            return
        expect(button).to_be_enabled(timeout=WAIT_OUT_MS)
    raise AssertionError(f"never accepted: {notice.inner_text()}")


def fragment_requests(page: Page) -> list[str]:
    """Return a list that fills with the page's requests for the thread fragment."""
    fetched: list[str] = []

    def on_request(request: Request) -> None:
        if "/comments.html" in request.url:
            fetched.append(request.url)

    page.on("request", on_request)
    return fetched


def test_a_reader_reads_the_thread_and_sees_field_errors(site, watched):
    page = watched.page
    welcome = api(site, "/api/v1/articles/welcome/")
    page.goto(site.article_url("welcome"))
    box = comments(page)

    plural = "Comment" if welcome["comment_count"] == 1 else "Comments"
    count = f"{welcome['comment_count']} {plural}"
    expect(box.locator("h2.reex-count")).to_have_text(count)
    expect(page.locator("[data-reex-count=welcome]")).to_have_text(count)
    expect(box.locator(".reex-comment")).to_have_count(welcome["comment_count"])
    expect(box.get_by_text("Your email address will not be published.")).to_be_visible()

    # Light or dark as the reader's system is, unless the site sets the colours.
    text_colour = "el => getComputedStyle(el.shadowRoot.querySelector('.reex')).color"
    light = box.evaluate(text_colour)
    page.emulate_media(color_scheme="dark")
    assert box.evaluate(text_colour) != light
    page.emulate_media(color_scheme="light")

    box.get_by_role("button", name="Post comment").click()

    for label in ("Name", "Email", "Comment"):
        expect(textbox(box, label)).to_have_attribute("aria-invalid", "true")
    expect(box.locator(".reex-error", has_text="This field is required.")).to_have_count(3)
    expect(textbox(box, "Name")).to_be_focused()
    expect(textbox(box, "Website")).not_to_have_attribute("aria-invalid", "true")


def test_a_reader_posts_a_comment_and_a_reply_and_sees_them_pending(site, watched, dev_stack):
    page = watched.page
    page.goto(site.article_url("welcome"))
    box = comments(page)
    body = f"A comment from the embed {uuid.uuid4().hex[:6]}."
    reply = f"A reply from the embed {uuid.uuid4().hex[:6]}."

    fill_form(box, name="Embed Reader", email="embed@example.org", body=body)
    box.get_by_label("Save my name, email, and website").check()
    post_until_accepted(box)

    mine = box.locator(".reex-pending", has_text=body)
    expect(mine).to_contain_text(AWAITING)
    expect(mine).to_be_focused()
    expect(textbox(box, "Comment")).to_have_value("")

    first = box.locator(".reex-comment:not(.reex-pending)").first
    first.get_by_role("button", name=re.compile("^Reply to ")).first.click()
    expect(box.get_by_role("heading", name=re.compile("^Reply to "))).to_be_visible()
    expect(textbox(box, "Comment")).to_be_focused()
    expect(textbox(box, "Name")).to_have_value("Embed Reader")  # remembered
    textbox(box, "Comment").fill(reply)
    # Seconds after the first, inside REEX_COMMENT_FLOOD_SECONDS: the API answers 429 and
    # the embed shows the wait with the button off, then lets the reader send it.
    post = box.get_by_role("button", name="Post comment")
    post.click()
    expect(box.locator("form > .reex-notice")).to_contain_text(
        re.compile(r"Please wait \d+ second")
    )
    expect(post).to_be_disabled()
    expect(textbox(box, "Comment")).to_have_value(reply)
    expect(post).to_be_enabled(timeout=WAIT_OUT_MS)
    post_until_accepted(box)
    expect(first.locator(".reex-replies .reex-pending", has_text=reply)).to_be_visible()

    # After a reload each is still shown once: pending (to this reader only) or, once the
    # worker has approved it, published; then both are published.
    page.reload()
    for text in (body, reply):
        expect(comments(page).locator(".reex-body", has_text=text)).to_have_count(1)

    def published() -> bool:
        page.reload()
        bodies = comments(page).locator(".reex-comment:not(.reex-pending) > .reex-body")
        bodies.first.wait_for()
        return comments(page).locator(".reex-pending").count() == 0 and all(
            bodies.filter(has_text=text).count() == 1 for text in (body, reply)
        )

    dev_stack.wait_until(published, timeout=60, interval=1)
    cookies = page.context.cookies()
    assert cookies == [], f"the embed set cookies: {cookies}"


def test_the_thread_loads_only_when_it_nears_the_viewport(site, watched):
    page = watched.page
    fetched = fragment_requests(page)
    page.goto(site.article_url("welcome", far="1"))
    expect(page.locator("[data-reex-count=welcome]")).to_have_text(re.compile(r"^\d+ Comments?$"))
    page.wait_for_timeout(500)
    assert fetched == []

    comments(page).scroll_into_view_if_needed()

    expect(comments(page).locator("h2.reex-count")).to_be_visible()
    assert len(fetched) == 1


def test_the_embed_takes_over_a_thread_the_site_included(site, watched):
    page = watched.page
    fetched = fragment_requests(page)
    page.goto(site.article_url("welcome", include="1"))

    box = comments(page)
    expect(box.get_by_role("button", name=re.compile("^Reply to ")).first).to_be_visible()
    expect(box.get_by_role("button", name="Post comment")).to_be_visible()
    assert fetched == []
    # Search engines and readers without JavaScript get the same thread in the page itself.
    included = site.article_url("welcome", include="1")
    with urllib.request.urlopen(included, timeout=10) as answer:  # noqa: S310 (loopback)
        assert 'itemtype="https://schema.org/Comment"' in answer.read().decode()


def test_a_reader_does_everything_from_the_keyboard(site, watched):
    page = watched.page
    page.goto(site.article_url("welcome"))
    box = comments(page)
    expect(box.get_by_role("button", name="Post comment")).to_be_visible()
    body = f"Typed without a mouse {uuid.uuid4().hex[:6]}."

    tab_to(page, re.compile("^Reply to "))
    page.keyboard.press("Enter")
    expect(textbox(box, "Comment")).to_be_focused()
    page.keyboard.type(body)
    for _ in range(3):
        page.keyboard.press("Shift+Tab")
    expect(textbox(box, "Name")).to_be_focused()
    page.keyboard.type("Keyboard Reader")
    page.keyboard.press("Tab")
    page.keyboard.type("keys@example.org")
    tab_to(page, re.compile("^Post comment$"))

    for _ in range(3):
        page.keyboard.press("Enter")
        notice = box.locator("form > .reex-notice")
        expect(notice).to_contain_text(re.compile(f"{AWAITING}|Please wait"))
        if AWAITING in notice.inner_text():
            break
        expect(box.get_by_role("button", name="Post comment")).to_be_enabled(timeout=WAIT_OUT_MS)
        tab_to(page, re.compile("^Post comment$"), backwards=True)
    expect(box.locator(".reex-pending", has_text=body)).to_be_focused()


def tab_to(page: Page, name: re.Pattern[str], *, backwards: bool = False) -> None:
    """Press Tab until the focused element (inside shadow roots too) is called ``name``."""
    for _ in range(80):
        if name.search(focused_name(page)):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"Tab never reached {name.pattern}; at {focused_name(page)!r}")


def focused_name(page: Page) -> str:
    return page.evaluate(
        """() => {
          let a = document.activeElement;
          while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
          return a ? (a.getAttribute("aria-label") || a.textContent || "").trim() : "";
        }"""
    )


def test_the_form_keeps_the_text_when_the_api_goes_away_mid_post(site, watched):
    page = watched.page
    page.goto(site.article_url("welcome"))
    box = comments(page)
    body = f"Written while the service was down {uuid.uuid4().hex[:6]}."
    fill_form(box, name="Patient Reader", email="patient@example.org", body=body)

    def gone(route: Route) -> None:
        if route.request.method == "POST":
            route.abort("connectionreset")
        else:
            route.fallback()

    page.route(f"{site.reex_origin}/api/v1/articles/*/comments/", gone)
    box.get_by_role("button", name="Post comment").click()

    expect(box.locator("form > .reex-notice")).to_contain_text("not answering right now")
    expect(box.locator("form > .reex-notice")).to_be_focused()
    expect(textbox(box, "Comment")).to_have_value(body)
    expect(box.locator(".reex-pending")).to_have_count(0)
    # A reload (or a closed tab) keeps it too.
    page.unroute_all()
    page.reload()
    expect(textbox(comments(page), "Comment")).to_have_value(body)


def test_the_form_keeps_the_text_when_the_api_is_too_slow(site, watched):
    page = watched.page
    page.clock.install()  # the embed's own timer decides "too slow": run it forward
    page.goto(site.article_url("welcome"))
    box = comments(page)
    body = f"Written while the service was slow {uuid.uuid4().hex[:6]}."
    fill_form(box, name="Patient Reader", email="patient@example.org", body=body)
    held: list[Route] = []

    def hang(route: Route) -> None:
        if route.request.method == "POST":
            held.append(route)  # never answered while the reader waits
        else:
            route.fallback()

    page.route(f"{site.reex_origin}/api/v1/articles/*/comments/", hang)
    with page.expect_request(lambda request: request.method == "POST"):
        box.get_by_role("button", name="Post comment").click()
    expect(box.locator("form")).to_have_attribute("aria-busy", "true")
    page.clock.run_for(16_000)

    expect(box.locator("form > .reex-notice")).to_contain_text("not answering right now")
    expect(textbox(box, "Comment")).to_have_value(body)
    expect(box.get_by_role("button", name="Post comment")).to_be_enabled()
    assert len(held) == 1


def test_a_first_comment_on_a_new_article_of_the_site_creates_it(site, watched):
    page = watched.page
    key = f"host{uuid.uuid4().hex[:8]}"
    page.goto(site.article_url(key, slug="rare-earth-magnets-explained"))
    box = comments(page)
    expect(box.locator("h2.reex-count")).to_have_text("No comments yet")
    expect(page.locator(f"[data-reex-count={key}]")).to_have_text("0 Comments")

    fill_form(box, name="First Reader", email="first@example.org", body="First on this one.")
    post_until_accepted(box)

    article = api(site, f"/api/v1/articles/{key}/")
    assert article["title"] == "Rare earth magnets explained"  # not the browser's claim
    assert article["url"] == site.article_url(key, slug="rare-earth-magnets-explained")


def test_a_reader_subscribes_from_the_sign_up_box(site, watched):
    page = watched.page
    page.goto(site.article_url("welcome"))
    box = page.locator("[data-reex-subscribe]")
    expect(box.get_by_role("heading", name="Straight Into Your Inbox")).to_be_visible()

    box.get_by_role("button", name="Subscribe").click()
    expect(textbox(box, "Email")).to_have_attribute("aria-invalid", "true")
    expect(box.locator(".reex-error", has_text="Consent is required")).to_be_visible()

    textbox(box, "Email").fill(f"embed-{uuid.uuid4().hex[:8]}@example.org")
    box.get_by_role("checkbox").check()
    box.get_by_role("button", name="Subscribe").click()

    done = box.get_by_role("status")
    expect(done).to_contain_text("If this address can be subscribed, a confirmation email")
    expect(done).to_be_focused()
