"""A worker SIGKILLed in the middle of an edition: its claimed rows come back after the
lease, another worker sends them, and every recipient gets the edition once; at most the
one message in flight at the kill arrives twice."""

import time
import uuid
from collections import Counter

import pytest

# Bounded: a fault that is not recovered from fails the test instead of hanging it.
pytestmark = pytest.mark.timeout(240)

RECIPIENTS = 60
LEASE_SECONDS = 5
VISIBILITY_TIMEOUT = 3
# Slow enough that the kill lands mid-edition, shared by both workers through Redis.
SEND_RATE = 10

SETUP = """
from django.utils import timezone
from comments.models import Article
from subscriptions.models import MailingList, Subscriber, Subscription
mailing_list = MailingList.objects.create(slug={slug!r}, name="Faults {tag}")
subscribers = Subscriber.objects.bulk_create(
    Subscriber(email=f"r{{n}}@{domain}") for n in range({count})
)
Subscription.objects.bulk_create(
    Subscription(subscriber=s, mailing_list=mailing_list, status="confirmed",
                 confirmed_at=timezone.now()) for s in subscribers
)
Article.objects.create(key="faults-{tag}", title="Magnet plant opens {tag}",
                       url="https://news.example.org/faults-{tag}/", published_at=timezone.now())
"""
SEND_NOW = """
from subscriptions import editions
from subscriptions.models import MailingList
edition = editions.edition_send_now(newsletter_list=MailingList.objects.get(slug={slug!r}))
print("EDITION", edition.pk, edition.recipients)
"""
SWEEP = "from subscriptions import edition_sending; edition_sending.editions_requeue()"


def _received(stack, domain: str) -> Counter[str]:
    return Counter(
        rcpt for _, rcpts in list(stack.smtp.envelopes) for rcpt in rcpts if rcpt.endswith(domain)
    )


def _mid_batch(stack, edition_id: int) -> bool:
    """Return whether a batch is claimed and a few messages have gone out (each is marked
    sent right after it goes)."""
    states = dict(
        stack.sql(
            "SELECT state, count(*) FROM subscriptions_editiondelivery "
            "WHERE edition_id = %s GROUP BY state",
            (edition_id,),
        )
    )
    # Ten or more still to send: the kill lands well before the batch ends.
    return states.get("sending", 0) >= 10 and states.get("sent", 0) >= 3


def _state(stack, edition_id: int) -> str:
    return stack.sql("SELECT state FROM subscriptions_edition WHERE id = %s", (edition_id,))[0][0]


def test_an_edition_cut_short_by_a_killed_worker_reaches_everyone_once(stack):
    tag = uuid.uuid4().hex[:8]
    slug, domain = f"faults-{tag}", f"{tag}.example.org"
    stack.manage("shell", "-c", SETUP.format(slug=slug, tag=tag, domain=domain, count=RECIPIENTS))
    env = {
        "REEX_SEND_LEASE_SECONDS": str(LEASE_SECONDS),
        "REEX_SEND_RATE": str(SEND_RATE),
        "REEX_SEND_BATCH": "25",
        "REEX_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    }
    stack.stop_process("worker")  # the stack's worker would take the batches meanwhile
    workers = [stack.start_worker(name="sender-a", **env)]
    try:
        printed = stack.manage("shell", "-c", SEND_NOW.format(slug=slug)).stdout
        edition_id, recipients = map(int, printed.split("EDITION", 1)[1].split())
        assert recipients == RECIPIENTS

        stack.wait_until(lambda: _mid_batch(stack, edition_id), timeout=60, interval=0.05)
        workers[0].stop(kill=True)  # SIGKILL to the whole worker, pool and all
        sent_by_a = sum(_received(stack, domain).values())
        assert sent_by_a < RECIPIENTS, "the kill came too late to cut the edition short"
        claimed = dict(
            stack.sql(
                "SELECT state, count(*) FROM subscriptions_editiondelivery "
                "WHERE edition_id = %s GROUP BY state",
                (edition_id,),
            )
        )
        # The dead worker's rows, held until their lease lapses.
        assert claimed.get("sending", 0) > 0, (claimed, sent_by_a, workers[0].output())

        time.sleep(VISIBILITY_TIMEOUT + 1)
        workers.append(stack.start_worker(name="sender-b", **env))

        def finished() -> bool:
            stack.manage("shell", "-c", SWEEP)  # what beat runs every minute
            return _state(stack, edition_id) == "sent"

        stack.wait_until(finished, timeout=120, interval=2)
    finally:
        for worker in workers:
            worker.stop(kill=True)
        stack.start_process("worker")

    time.sleep(1)  # a message sent twice would arrive within this time
    received = _received(stack, domain)
    assert set(received) == {f"r{n}@{domain}" for n in range(RECIPIENTS)}
    twice = [rcpt for rcpt, count in received.items() if count > 1]
    assert len(twice) <= 1, twice  # only the message in flight at the kill
    assert max(received.values()) <= 2
    states = stack.sql(
        "SELECT state, count(*) FROM subscriptions_editiondelivery WHERE edition_id = %s "
        "GROUP BY state",
        (edition_id,),
    )
    assert states == [("sent", RECIPIENTS)]
