"""SMTP down, then back: every email (confirmations, moderators' notices) arrives once."""

import json
import time
import uuid
from email.message import EmailMessage
from http import HTTPStatus

import pytest

from devstack.ports import port_is_open
from tests.faults.support import call, new_article

# Bounded: a fault that is not recovered from fails the test instead of hanging it.
pytestmark = pytest.mark.timeout(150)


def _attempted(stack, emails: list[str], comment_ids: list[int]) -> bool:
    deliveries = stack.sql(
        "SELECT count(*) FROM subscriptions_delivery d JOIN subscriptions_subscriber s "
        "ON s.id = d.subscriber_id WHERE s.email = ANY(%s) AND d.attempts >= 1 "
        "AND d.status = 'queued'",
        (emails,),
    )
    notifications = stack.sql(
        "SELECT count(*) FROM comments_notification WHERE comment_id = ANY(%s) "
        "AND last_error <> '' AND sent_at IS NULL",
        (comment_ids,),
    )
    return deliveries[0][0] == len(emails) and notifications[0][0] == len(comment_ids)


def _notices(stack, moderator: str) -> list[EmailMessage]:
    # Every moderator is on a notice's To line; other tests add moderators too.
    return [m for m in stack.smtp.messages if moderator in str(m["To"])]


def test_every_email_queued_while_smtp_is_down_arrives_exactly_once_when_it_is_back(stack):
    article = new_article(stack)
    tag = uuid.uuid4().hex[:6]
    emails = [f"smtp-{tag}-{n}@example.org" for n in range(3)]
    comments_url = f"{stack.base_url}/api/v1/articles/{article['key']}/comments/"
    stack.smtp.stop()
    try:
        assert not port_is_open(stack.smtp.port)
        for email in emails:
            status, _, _ = call(
                f"{stack.base_url}/api/v1/subscriptions/", payload={"email": email, "consent": True}
            )
            assert status == HTTPStatus.ACCEPTED
        comment_ids = []
        for n in range(2):
            payload = {"author_name": f"S{n}", "author_email": f"s{n}-{tag}@example.org",
                       "body": f"Outage {n} {article['hold']}"}  # fmt: skip
            status, _, body = call(comments_url, payload=payload)
            assert status == HTTPStatus.ACCEPTED
            comment_ids.append(json.loads(body)["id"])
        # Every email was tried, refused, and put back for a retry.
        stack.wait_until(lambda: _attempted(stack, emails, comment_ids), timeout=60)
    finally:
        stack.smtp.start()

    for email in emails:
        stack.smtp.wait_for(lambda m, email=email: m["To"] == email, timeout=60)
    stack.wait_until(lambda: len(_notices(stack, article["email"])) >= 2, timeout=60)
    time.sleep(5)  # time for a duplicate to show up, if one were coming
    received = [m["To"] for m in stack.smtp.messages]
    assert [received.count(email) for email in emails] == [1, 1, 1]
    notices = _notices(stack, article["email"])
    assert len(notices) == 2
    assert sorted(
        cid for cid in comment_ids for m in notices if f"/comment/{cid}/change/" in m.get_content()
    ) == sorted(comment_ids)
    assert stack.sql(
        "SELECT count(*) FROM comments_notification WHERE comment_id = ANY(%s) "
        "AND sent_at IS NOT NULL",
        (comment_ids,),
    ) == [(2,)]
