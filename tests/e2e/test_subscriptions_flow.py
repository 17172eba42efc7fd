"""A subscriber's whole journey on the production shape: PostgreSQL, Redis, gunicorn,
a Celery worker and a real SMTP server on loopback."""

import json
import re
import time
import uuid
from email.message import EmailMessage
from http import HTTPStatus
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import (
    BaseHandler,
    HTTPCookieProcessor,
    HTTPRedirectHandler,
    Request,
    build_opener,
)

_LINK = r"http://127\.0\.0\.1:\d+/subscriptions/{}/[^/\s]+/"


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _request(url: str, data: bytes | None = None, content_type: str = "") -> Request:
    headers = {"Content-Type": content_type} if content_type else {}
    return Request(url, data=data, headers=headers)  # noqa: S310 (a loopback URL we built)


def _opener(jar: CookieJar | None = None):
    handlers: list[BaseHandler] = [_NoRedirect()]
    if jar is not None:
        handlers.append(HTTPCookieProcessor(jar))
    return build_opener(*handlers)


def _call(opener, request: Request) -> tuple[int, str, dict[str, str]]:
    try:
        with opener.open(request, timeout=15) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def _sign_up(stack, email: str) -> int:
    body = json.dumps({"email": email, "consent": True}).encode()
    request = _request(f"{stack.base_url}/api/v1/subscriptions/", body, "application/json")
    status, _, _ = _call(_opener(), request)
    return status


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def _link(message: EmailMessage, kind: str) -> str:
    found = re.search(_LINK.format(kind), _text(message))
    assert found, _text(message)
    return found.group(0)


def _status_of(stack, email: str) -> str:
    rows = stack.sql(
        "SELECT s.status FROM subscriptions_subscription s "
        "JOIN subscriptions_subscriber r ON r.id = s.subscriber_id WHERE r.email = %s",
        (email,),
    )
    return rows[0][0]


def _to(email: str, subject: str):
    return lambda m: m["To"] == email and subject in str(m["Subject"])


def _confirm_with_the_button(link: str) -> tuple[int, str]:
    jar = CookieJar()
    opener = _opener(jar)
    status, page, _ = _call(opener, _request(link))
    assert status == HTTPStatus.OK
    assert "Confirm my subscription" in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    form = urlencode({"csrfmiddlewaretoken": token.group(1)}).encode()
    status, page, _ = _call(opener, _request(link, form))
    return status, page


def test_a_reader_signs_up_confirms_gets_welcomed_and_leaves_in_one_click(stack):
    email = f"reader-{uuid.uuid4().hex[:8]}@example.org"

    assert _sign_up(stack, email) == HTTPStatus.ACCEPTED
    confirmation = stack.smtp.wait_for(_to(email, "Please confirm"), timeout=30)
    link = _link(confirmation, "confirm")
    assert link.startswith(stack.base_url)

    # Opening the link (as a mail scanner would) changes nothing; the button confirms.
    _call(_opener(), _request(link))
    assert _status_of(stack, email) == "pending"
    status, page = _confirm_with_the_button(link)
    assert status == HTTPStatus.OK
    assert "Welcome aboard" in page
    assert _status_of(stack, email) == "confirmed"

    welcome = stack.smtp.wait_for(_to(email, "Welcome to the Daily News Update"), timeout=30)
    assert welcome.is_multipart()
    assert welcome.get_body(preferencelist=("html",)) is not None
    unsubscribe = _link(welcome, "unsubscribe")
    # A long header may be folded after the colon; unfolded, it is exactly the link.
    assert welcome["List-Unsubscribe"].strip() == f"<{unsubscribe}>"
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert welcome["List-Id"] == "Daily News Update <daily.127.0.0.1>"

    # RFC 8058: the mail provider POSTs, with no cookie and no CSRF token.
    one_click = _request(
        unsubscribe, b"List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
    )
    status, page, headers = _call(_opener(), one_click)
    assert status == HTTPStatus.OK
    assert "Location" not in headers
    assert "You are unsubscribed" in page
    assert _status_of(stack, email) == "unsubscribed"


def test_a_confirmation_sent_while_smtp_is_down_arrives_exactly_once_when_it_is_back(stack):
    email = f"patient-{uuid.uuid4().hex[:8]}@example.org"
    stack.smtp.stop()
    try:
        assert _sign_up(stack, email) == HTTPStatus.ACCEPTED
        # The worker tried, failed to connect, and put the email back for a retry.
        stack.wait_until(
            lambda: stack.sql(
                "SELECT 1 FROM subscriptions_delivery d JOIN subscriptions_subscriber s "
                "ON s.id = d.subscriber_id WHERE s.email = %s AND d.attempts >= 1 "
                "AND d.status = 'queued'",
                (email,),
            ),
            timeout=30,
        )
    finally:
        stack.smtp.start()

    stack.smtp.wait_for(_to(email, "Please confirm"), timeout=60)
    time.sleep(5)  # time for a duplicate to show up, if one were coming
    assert len([m for m in stack.smtp.messages if m["To"] == email]) == 1
    sent = stack.sql(
        "SELECT d.status FROM subscriptions_delivery d JOIN subscriptions_subscriber s "
        "ON s.id = d.subscriber_id WHERE s.email = %s",
        (email,),
    )
    assert sent == [("sent",)]
