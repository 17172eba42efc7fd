"""Newsletter figures: an edition to N subscribers against a plain smtplib loop, composing
and fanning out, and REEX_SEND_RATE held over a minute.

Everything runs on the bench stack: its PostgreSQL, Redis, Celery worker (2 processes)
and loopback SMTP sink, which only counts messages here (100,000 kept would be gigabytes).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.soak import tree_rss
from devstack.stack import Stack
from devstack.waiting import wait_until

logger = logging.getLogger("bench")
MARKER = "BENCH_NEWSLETTER"
SUBSCRIBERS, QUICK_SUBSCRIBERS = 100_000, 3_000
BASELINE_MESSAGES, QUICK_BASELINE_MESSAGES = 20_000, 2_000
RATE = 100
RATE_SECONDS, QUICK_RATE_SECONDS = 60, 15
RATE_WARM_UP_SECONDS = 5
RATE_LIST = "bench-rate"

# A list for the rate run (made before the article, so the article is new to both
# lists), its subscribers taken from the daily list's, and one article to send.
SETUP = """
from django.utils import timezone
from comments.models import Article
from subscriptions.models import MailingList, Subscription
rate_list, _ = MailingList.objects.get_or_create(slug={rate_list!r}, defaults={{"name": "Rate"}})
daily = MailingList.objects.get(slug="daily")
ids = Subscription.objects.filter(mailing_list=daily, status="confirmed").order_by("id")
Subscription.objects.bulk_create(
    Subscription(subscriber_id=s, mailing_list=rate_list, status="confirmed",
                 confirmed_at=timezone.now())
    for s in ids.values_list("subscriber_id", flat=True)[:{count}]
)
Article.objects.create(key="bench-edition", title="Rare earth prices hold steady",
                       url="https://news.example.org/bench-edition/", published_at=timezone.now())
"""
# Compose the list's edition and start it (fan-out): what beat does at the send time.
SEND_NOW = """
import json, time
from subscriptions import editions
from subscriptions.models import MailingList
started = time.monotonic()
edition = editions.edition_send_now(newsletter_list=MailingList.objects.get(slug={slug!r}))
print({marker!r}, json.dumps({{"seconds": time.monotonic() - started,
                               "recipients": edition.recipients, "edition": edition.pk}}))
"""
CANCEL = """
from subscriptions import editions
editions.edition_cancel(edition_id={edition})
"""
# One plain sender: the prebuilt message over one kept connection, as fast as it goes.
PLAIN_LOOP = """
import smtplib, sys
host, port, count, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
raw = open(path, "rb").read()
with smtplib.SMTP(host, port) as smtp:
    for n in range(count):
        smtp.sendmail("bench@example.org", [f"plain{n}@bench.example.org"], raw)
"""


def run(stack: Stack, *, quick: bool) -> dict[str, Any]:
    """Measure the three newsletter figures; return them (or why one failed)."""
    rate_seconds = QUICK_RATE_SECONDS if quick else RATE_SECONDS
    rate_subscribers = RATE * (rate_seconds + 20)  # more than the window can send
    subscribers = max(QUICK_SUBSCRIBERS if quick else SUBSCRIBERS, rate_subscribers)
    stack.pause_queue("bulk")
    stack.smtp.keep_messages = False
    _seed(stack, subscribers=subscribers, rate_subscribers=rate_subscribers)
    composed = _send_now(stack, "daily")
    edition = _edition_rate(stack, composed["recipients"])
    baseline = _plain_rate(stack, QUICK_BASELINE_MESSAGES if quick else BASELINE_MESSAGES)
    return {
        "status": "ok",
        "subscribers": subscribers,
        "compose_seconds": composed["seconds"],
        "edition": edition,
        "baseline_per_second": baseline,
        "ratio": edition["per_second"] / baseline,
        "rate": _held_rate(stack, seconds=rate_seconds),
    }


def _seed(stack: Stack, *, subscribers: int, rate_subscribers: int) -> None:
    started = time.monotonic()
    stack.manage("seed_bench", "--subscribers", str(subscribers), "--no-progress", timeout=900)
    stack.manage("shell", "-c", SETUP.format(rate_list=RATE_LIST, count=rate_subscribers))
    logger.info(
        "newsletter: %d subscribers seeded in %.0f s", subscribers, time.monotonic() - started
    )


def _send_now(stack: Stack, slug: str) -> dict[str, Any]:
    code = SEND_NOW.format(slug=slug, marker=MARKER)
    printed = stack.manage("shell", "-c", code, timeout=300).stdout
    line = next(line for line in printed.splitlines() if line.startswith(MARKER))
    return dict(json.loads(line.split(" ", 1)[1]))


def _edition_rate(stack: Stack, recipients: int) -> dict[str, Any]:
    """Resume the paused bulk queue; time until the sink has the edition's every message."""
    worker = stack.processes["worker"].pid
    before = tree_rss(worker)["kb"]
    mark = len(stack.smtp.envelopes)
    started = time.monotonic()
    stack.resume_queue("bulk")
    wait_until(
        lambda: len(stack.smtp.envelopes) - mark >= recipients,
        timeout=max(120, recipients / 50),
        interval=0.05,
        message=lambda: f"{len(stack.smtp.envelopes) - mark} of {recipients} arrived",
    )
    seconds = time.monotonic() - started
    after = tree_rss(worker)["kb"]
    time.sleep(1)  # a message sent twice would arrive within this time
    return {
        "recipients": recipients,
        "seconds": seconds,
        "per_second": recipients / seconds,
        "received": len(stack.smtp.envelopes) - mark,
        "rss_before_kb": before,
        "rss_after_kb": after,
    }


def _plain_rate(stack: Stack, messages: int) -> float:
    """Send the edition's last message ``messages`` times over 2 kept smtplib connections."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "message.eml"
        path.write_bytes(stack.smtp.last_raw)
        mark = len(stack.smtp.envelopes)
        started = time.monotonic()
        argv = [sys.executable, "-c", PLAIN_LOOP, stack.smtp.host, str(stack.smtp.port)]
        argv += [str(messages // 2), str(path)]
        senders = [subprocess.Popen(argv) for _ in range(2)]  # noqa: S603 (our own script)
        for sender in senders:
            sender.wait(timeout=600)
        seconds = time.monotonic() - started
    return (len(stack.smtp.envelopes) - mark) / seconds


def _held_rate(stack: Stack, *, seconds: int) -> dict[str, Any]:
    """Send the rate list's edition through a worker with REEX_SEND_RATE; count a window."""
    stack.pause_queue("bulk")
    worker = stack.start_worker(name="bench-rate", concurrency=2, REEX_SEND_RATE=str(RATE))
    try:
        composed = _send_now(stack, RATE_LIST)
        time.sleep(RATE_WARM_UP_SECONDS)
        first = len(stack.smtp.envelopes)
        time.sleep(seconds)
        counted = len(stack.smtp.envelopes) - first
        stack.manage("shell", "-c", CANCEL.format(edition=composed["edition"]))
    finally:
        worker.stop()
    measured = counted / seconds
    return {
        "target": RATE,
        "seconds": seconds,
        "messages": counted,
        "per_second": measured,
        "off_percent": 100 * (measured - RATE) / RATE,
    }
