"""Redis (broker and cache) down while readers comment and sign up: nothing is lost."""

import json
import time
import uuid
from http import HTTPStatus

import pytest

from tests.faults.support import call, extra_web, new_article

# Bounded: a fault that is not recovered from fails the test instead of hanging it.
pytestmark = pytest.mark.timeout(150)

# The clock as beat would see it when the sweeps next run after Redis is back.
SWEEP = """
from datetime import timedelta
from unittest import mock
from django.utils import timezone
from comments import services as comments
from subscriptions import sending as subscriptions

later = timezone.now() + timedelta(minutes=3)
with mock.patch("django.utils.timezone.now", return_value=later):
    print(comments.comment_requeue_unchecked(older_than=timedelta(minutes=1)),
          comments.notification_requeue_unsent(), subscriptions.deliveries_requeue())
"""


def _unchecked(stack, comment_ids: list[int]) -> list[tuple[int]]:
    return stack.sql(
        "SELECT id FROM comments_comment WHERE id = ANY(%s) AND checked_at IS NULL",
        (comment_ids,),
    )


def _published(stack, key: str) -> list[int]:
    status, _, text = call(f"{stack.base_url}/api/v1/articles/{key}/comments/")
    assert status == HTTPStatus.OK
    return [item["id"] for item in json.loads(text)["results"]]


def _deliveries(stack, emails: list[str]) -> list[tuple[str, str]]:
    return stack.sql(
        "SELECT s.email, d.status FROM subscriptions_delivery d "
        "JOIN subscriptions_subscriber s ON s.id = d.subscriber_id WHERE s.email = ANY(%s)",
        (emails,),
    )


def test_readers_comment_and_sign_up_while_redis_is_down_and_the_sweeps_finish_later(stack):
    article = new_article(stack)
    tag = uuid.uuid4().hex[:6]
    emails = [f"redis-{tag}-{n}@example.org" for n in range(2)]
    # Production keeps the DRF throttles on, and they count in Redis too.
    with extra_web(
        stack, name="web-throttled", REEX_COMMENT_RATE="100/min", REEX_SUBSCRIBE_RATE="100/min"
    ) as base_url:
        comments_url = f"{base_url}/api/v1/articles/{article['key']}/comments/"
        stack.stop_process("redis")
        answers, ids = [], []
        for n, body in enumerate(["Redis is down, approve me", f"Hold me {article['hold']}"]):
            started = time.monotonic()
            payload = {"author_name": f"R{n}", "author_email": f"r{n}-{tag}@example.org",
                       "body": body}  # fmt: skip
            status, _, text = call(comments_url, payload=payload)
            answers.append((status, round(time.monotonic() - started, 1)))
            if status == HTTPStatus.ACCEPTED:
                ids.append(json.loads(text)["id"])
        for email in emails:
            started = time.monotonic()
            status, _, _ = call(
                f"{base_url}/api/v1/subscriptions/", payload={"email": email, "consent": True}
            )
            answers.append((status, round(time.monotonic() - started, 1)))

        assert [status for status, _ in answers] == [HTTPStatus.ACCEPTED] * 4, answers
        assert max(seconds for _, seconds in answers) < 5, answers
        assert len(_unchecked(stack, ids)) == 2
        assert sorted(_deliveries(stack, emails)) == [(email, "queued") for email in emails]

    stack.start_process("redis")
    stack.manage("shell", "-c", SWEEP)

    stack.wait_until(lambda: ids[0] in _published(stack, article["key"]), timeout=60)
    stack.wait_until(lambda: not _unchecked(stack, ids), timeout=60)
    for email in emails:
        stack.smtp.wait_for(lambda m, email=email: m["To"] == email, timeout=60)
    stack.smtp.wait_for(lambda m: article["title"] in str(m["Subject"]), timeout=60)
    time.sleep(3)  # time for a duplicate to show up, if one were coming
    received = [m["To"] for m in stack.smtp.messages]
    assert [received.count(email) for email in emails] == [1, 1]
    # Every moderator is on a notice's To line; other tests add moderators too.
    assert sum(article["email"] in str(to) for to in received) == 1
    assert sorted(_deliveries(stack, emails)) == [(email, "sent") for email in emails]
