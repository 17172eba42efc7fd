"""The author edits or deletes their new comment from the embed (its edit window).

Same host site, strict CSP and console watch as test_embed.py, whose fixtures this reuses.
"""

from __future__ import annotations

import uuid

from playwright.sync_api import Locator, Route, expect

from tests.browser import test_embed as embed
from tests.browser.test_embed import AWAITING, comments, fill_form, post_until_accepted, textbox

# The fixtures of test_embed.py (the host site, the watched page), shared by name.
site = embed.site
watched = embed.watched


def own_buttons(comment: Locator) -> tuple[Locator, Locator]:
    return (
        comment.get_by_role("button", name="Edit your comment"),
        comment.get_by_role("button", name="Delete your comment"),
    )


def post_mine(box: Locator, body: str) -> Locator:
    textbox(box, "Comment").fill(body)
    post_until_accepted(box)
    return box.locator(".reex-comment", has_text=body)


def test_the_author_edits_one_comment_and_deletes_another(site, watched):
    page = watched.page
    page.goto(site.article_url("welcome"))
    box = comments(page)
    body = f"Frist thought {uuid.uuid4().hex[:6]}."
    better = f"First thought, spelt right {uuid.uuid4().hex[:6]}."
    fill_form(box, name="Second Thoughts", email="second@example.org", body=body)
    post_until_accepted(box)
    mine = box.locator(".reex-comment", has_text=body)

    edit, _ = own_buttons(mine)
    edit.click()
    editor = textbox(box, "Edit your comment")
    expect(editor).to_be_focused()
    expect(editor).to_have_value(body)
    editor.fill("")
    box.get_by_role("button", name="Save").click()
    expect(editor).to_have_attribute("aria-invalid", "true")  # the API's 400, in place
    expect(box.locator(".reex-edit .reex-error")).not_to_be_empty()
    editor.fill(better)
    box.get_by_role("button", name="Save").click()

    edited = box.locator(".reex-pending", has_text=better)
    expect(edited).to_contain_text(AWAITING)
    expect(edited).to_contain_text("Your edit is saved and awaits moderation.")
    expect(edited).to_be_focused()
    expect(box.locator(".reex-body", has_text=body)).to_have_count(0)
    expect(own_buttons(edited)[0]).to_be_visible()

    other = post_mine(box, f"Posted in haste {uuid.uuid4().hex[:6]}.")
    _, delete = own_buttons(other)
    delete.click()
    box.get_by_role("button", name="Keep it").click()  # the confirmation is in the widget
    expect(delete).to_be_focused()
    delete.click()
    box.get_by_role("button", name="Delete for good").click()
    expect(other).to_have_count(0)
    expect(box.locator("form > .reex-notice")).to_have_text("Your comment is deleted.")

    # The reader's browser keeps the edited text (and its token) and forgets the deleted one.
    page.reload()
    box = comments(page)
    expect(box.locator(".reex-body", has_text=better)).to_have_count(1)
    expect(own_buttons(box.locator(".reex-comment", has_text=better))[0]).to_be_visible()
    expect(box.locator(".reex-body", has_text="Posted in haste")).to_have_count(0)
    stored = page.evaluate("localStorage.getItem('reex:pending:welcome')")
    assert better in stored
    assert "Posted in haste" not in stored
    assert page.context.cookies() == []


def test_an_edit_refused_as_too_late_hides_the_buttons(site, watched):
    page = watched.page
    page.goto(site.article_url("welcome"))
    box = comments(page)
    body = f"Edited too late {uuid.uuid4().hex[:6]}."
    fill_form(box, name="Slow Reader", email="slow@example.org", body=body)
    post_until_accepted(box)
    mine = box.locator(".reex-comment", has_text=body)
    answers = iter(["down", "late"])

    def refuse(route: Route) -> None:
        if route.request.method != "PATCH":
            route.fallback()
        elif next(answers) == "down":
            route.abort("connectionreset")
        else:
            late = {"detail": "Too late to edit.", "code": "edit_window_closed"}
            headers = {"Access-Control-Allow-Origin": site.origin}
            route.fulfill(status=409, json=late, headers=headers)

    page.route(f"{site.reex_origin}/api/v1/comments/*/", refuse)
    own_buttons(mine)[0].click()
    textbox(box, "Edit your comment").fill("Kept while the service is down.")
    box.get_by_role("button", name="Save").click()
    expect(box.locator(".reex-edit > .reex-notice")).to_contain_text("not answering right now")
    expect(textbox(box, "Edit your comment")).to_have_value("Kept while the service is down.")

    box.get_by_role("button", name="Save").click()

    expect(mine.locator(":scope > .reex-notice")).to_have_text("The time to edit has passed.")
    expect(mine.locator(".reex-edit")).to_have_count(0)
    expect(mine.get_by_role("button")).to_have_count(0)
    expect(mine.locator(".reex-body")).to_have_text(body)
    page.unroute_all()
    page.reload()
    expect(comments(page).locator(".reex-body", has_text=body)).to_have_count(1)
    expect(comments(page).get_by_role("button", name="Edit your comment")).to_have_count(0)
