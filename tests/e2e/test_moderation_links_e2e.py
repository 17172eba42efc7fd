"""Approving from the held-comment email, received by a real SMTP server."""

import http.cookiejar
import re
import urllib.parse
import urllib.request
from http import HTTPStatus

from tests.e2e.test_comments_e2e import approved_ids, post_json
from tests.faults.support import new_article

APPROVE = re.compile(r"^Approve: (\S+)", re.MULTILINE)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_a_moderator_approves_from_the_email_link(stack):
    article = new_article(stack, prefix="e2e-link", title="Email link")
    url = f"{stack.base_url}/api/v1/articles/{article['key']}/comments/"
    body = {"author_name": "Dee", "author_email": "dee@example.org", "body": article["hold"]}
    status, accepted = post_json(url, body)
    assert status == HTTPStatus.ACCEPTED

    message = stack.smtp.wait_for(
        lambda m: (m["To"] or "") == article["email"] and article["title"] in m["Subject"],
        timeout=60,
    )
    found = APPROVE.search(message.get_content())
    assert found is not None
    link = found.group(1)
    assert link.startswith(f"{stack.base_url}/comments/moderate/")

    # A browser without a session: the signed link is the authority, the page's form the CSRF.
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with browser.open(link, timeout=10) as response:  # mail scanners stop here
        page = response.read().decode()
    assert "<button" in page
    assert stack.sql("SELECT status FROM comments_comment WHERE id = %s", (accepted["id"],)) == [
        ("pending",)
    ]

    token = CSRF.search(page)
    assert token is not None
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1)}).encode()
    request = urllib.request.Request(link, data=form)  # noqa: S310 (a loopback http URL)
    with browser.open(request, timeout=10) as response:
        assert response.status == HTTPStatus.OK
        assert "now approved" in response.read().decode()

    assert accepted["id"] in approved_ids(stack, article["key"])
    audit = stack.sql(
        "SELECT e.action, u.username FROM comments_moderationevent e"
        " JOIN auth_user u ON u.id = e.actor_id WHERE e.comment_id = %s",
        (accepted["id"],),
    )
    assert audit == [("approve", article["user"])]
