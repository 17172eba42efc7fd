"""The Daily News Update end to end: the site's RSS feed, served over HTTP, is polled into
an article; readers sign up and confirm through the API and the confirmation page;
``newsletter_send`` sends the edition through the real worker, and the SMTP sink shows who
got it, with the feed's article; each one-click unsubscribe header then works."""

import json
import re
import time
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from http import HTTPStatus
from http.cookiejar import CookieJar
from urllib.parse import urlencode

import pytest

from tests.comments.feed_server import Route, feed_server
from tests.e2e.test_subscriptions_flow import _call, _opener, _request, _to

pytestmark = pytest.mark.timeout(240)

SETUP = """
from subscriptions.models import MailingList
MailingList.objects.create(slug={slug!r}, name="Morning {tag}", is_public=True)
"""
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Rare Earth Exchanges</title><link>https://news.example.org/</link>
<item><title>Lynas expands its Malaysian plant {tag}</title>
<link>https://news.example.org/lynas-{tag}/</link>
<guid isPermaLink="false">https://news.example.org/?p={post_id}</guid>
<pubDate>{published}</pubDate><dc:creator>Jane Doe</dc:creator>
<description><![CDATA[<p>Lynas doubles its capacity.</p><p>The post Lynas appeared first on
Rare Earth Exchanges.</p>]]></description></item>
</channel></rss>"""


def _article_from_the_feed(stack, tag: str) -> None:
    """Serve the site's feed over HTTP and poll it into an article."""
    post_id = str(uuid.uuid4().int % 10**9 + 10**9)
    # After the list's creation (its first edition takes what was published since then),
    # to the second, as RSS dates are.
    time.sleep(1.1)
    published = format_datetime(datetime.now(UTC).replace(microsecond=0))
    body = RSS.format(tag=tag, post_id=post_id, published=published).encode()
    with feed_server() as server:
        server.routes["/feed/"] = Route(body=body)
        printed = stack.manage("feeds_poll", "--url", server.url("/feed/")).stdout
    assert f"  created {post_id}\n" in printed, printed


_CONFIRM = re.compile(r"http://127\.0\.0\.1:\d+/subscriptions/confirm/[^/\s]+/")


def _sign_up(stack, email: str, slug: str) -> None:
    body = json.dumps({"email": email, "consent": True, "lists": [slug]}).encode()
    request = _request(f"{stack.base_url}/api/v1/subscriptions/", body, "application/json")
    assert _call(_opener(), request)[0] == HTTPStatus.ACCEPTED


def _confirm(stack, email: str) -> None:
    message = stack.smtp.wait_for(_to(email, "Please confirm"), timeout=90)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    found = _CONFIRM.search(part.get_content())
    assert found
    link = found.group(0)
    opener = _opener(CookieJar())
    status, page, _ = _call(opener, _request(link))
    assert status == HTTPStatus.OK
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    form = urlencode({"csrfmiddlewaretoken": token.group(1)}).encode()
    assert _call(opener, _request(link, form))[0] == HTTPStatus.OK


def _status(stack, email: str, slug: str) -> str:
    return stack.sql(
        "SELECT s.status FROM subscriptions_subscription s "
        "JOIN subscriptions_subscriber r ON r.id = s.subscriber_id "
        "JOIN subscriptions_mailinglist l ON l.id = s.mailing_list_id "
        "WHERE r.email = %s AND l.slug = %s",
        (email, slug),
    )[0][0]


def _editions(stack, subject: str) -> list[EmailMessage]:
    # A long subject is folded on the wire: compare the words.
    return [m for m in stack.smtp.messages if str(m["Subject"]).split() == subject.split()]


def _one_click(message: EmailMessage) -> int:
    url = re.fullmatch(r"<([^>]+)>.*", str(message["List-Unsubscribe"]).strip(), re.DOTALL)
    assert url, message["List-Unsubscribe"]
    request = _request(
        url.group(1), b"List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
    )
    return _call(_opener(), request)[0]


def test_each_confirmed_reader_gets_the_edition_once_and_can_leave_in_one_click(stack):
    tag = uuid.uuid4().hex[:8]
    slug = f"morning-{tag}"
    stack.manage("shell", "-c", SETUP.format(slug=slug, tag=tag))
    _article_from_the_feed(stack, tag)
    confirmed = [f"c{n}-{tag}@example.org" for n in range(3)]
    pending, leaver = f"p-{tag}@example.org", f"u-{tag}@example.org"
    for email in [*confirmed, pending, leaver]:
        _sign_up(stack, email, slug)
    for email in [*confirmed, leaver]:
        _confirm(stack, email)
    welcome = stack.smtp.wait_for(_to(leaver, "Welcome"), timeout=90)
    assert _one_click(welcome) == HTTPStatus.OK
    assert _status(stack, leaver, slug) == "unsubscribed"

    printed = stack.manage("newsletter_send", slug).stdout
    assert "Recipients: 3" in printed, printed
    ((subject,),) = stack.wait_until(
        lambda: stack.sql(
            "SELECT e.subject FROM subscriptions_edition e JOIN subscriptions_mailinglist l "
            "ON l.id = e.mailing_list_id WHERE l.slug = %s AND e.state = 'sent'",
            (slug,),
        ),
        timeout=90,
    )

    stack.wait_until(lambda: len(_editions(stack, subject)) >= len(confirmed), timeout=60)
    time.sleep(1)  # a message sent twice would arrive within this time
    editions = _editions(stack, subject)
    assert sorted(str(m["To"]) for m in editions) == sorted(confirmed)
    for message in editions:
        html = message.get_body(preferencelist=("html",))
        assert html is not None
        assert f"Lynas expands its Malaysian plant {tag}" in html.get_content()
        assert "Lynas doubles its capacity." in html.get_content()
        assert "appeared first on" not in html.get_content()
        assert f"https://news.example.org/lynas-{tag}/" in html.get_content()
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert str(message["List-Id"]).endswith(f"<{slug}.127.0.0.1>")
        assert _one_click(message) == HTTPStatus.OK
        assert _status(stack, str(message["To"]), slug) == "unsubscribed"
