"""Celery worker figures: moderation throughput and latency, confirmation emails per second.

Work is submitted through the public API (the real path: validate, insert, enqueue on
commit) and decisions are read from the database, so nothing here knows task names.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from bench.stats import percentile
from devstack.stack import Stack
from devstack.waiting import wait_until

logger = logging.getLogger("bench")
POLL_SECONDS = 0.01
# comment_moderate claims (checked_at) and decides in one transaction: visible == decided.
DECIDED_SQL = "SELECT author_email FROM comments_comment WHERE id > %s AND checked_at IS NOT NULL"
LEFTOVER_COMMENTS_SQL = (
    "UPDATE comments_comment SET checked_at = now() WHERE status = 'pending' AND checked_at IS NULL"
)
SENDERS = 4
# Enough parallel senders that a slow answer never holds back the next paced submission.
PACED_SENDERS = 32


@dataclass(frozen=True)
class Submitter:
    """POSTs JSON bodies to one API path, each with a unique address."""

    url: str
    prefix: str

    def post(self, payload: dict[str, object]) -> int:
        data = json.dumps(payload).encode()
        request = Request(self.url, data=data, method="POST")  # noqa: S310 (loopback URL)
        request.add_header("Content-Type", "application/json")
        try:
            with urlopen(request, timeout=30) as response:  # noqa: S310
                return int(response.status)
        except HTTPError as error:
            return error.code
        except (URLError, OSError):
            return 0

    def address(self, n: int) -> str:
        return f"{self.prefix}-{n}@bench.example.org"


def _comment(submitter: Submitter, n: int) -> int:
    return submitter.post(
        {
            "author_name": f"Worker reader {n}",
            "author_email": submitter.address(n),
            "body": f"Queued comment {n} on magnet supply and refinery permits, nothing more.",
        }
    )


def _subscribe(submitter: Submitter, n: int) -> int:
    return submitter.post({"email": submitter.address(n), "consent": True})


def _submit_all(submitter: Submitter, count: int, send: Callable[[Submitter, int], int]) -> None:
    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        statuses = list(pool.map(lambda n: send(submitter, n), range(count)))
    refused = [status for status in statuses if status != HTTPStatus.ACCEPTED]
    if refused:
        raise RuntimeError(f"{len(refused)} of {count} submissions refused, e.g. {refused[:5]}")


def _last_comment_id(stack: Stack) -> int:
    return int(stack.sql("SELECT coalesce(max(id), 0) FROM comments_comment")[0][0])


def moderation_throughput(stack: Stack, *, path: str, count: int) -> dict[str, object]:
    """Queue ``count`` comments with the moderation queue paused; time the drain."""
    stack.pause_queue("moderation")
    # The web rounds leave comments whose tasks were purged: a batch would decide them too.
    stack.sql(LEFTOVER_COMMENTS_SQL)
    after = _last_comment_id(stack)
    submitter = Submitter(url=stack.base_url + path, prefix=f"m{secrets.token_hex(3)}")
    _submit_all(submitter, count, _comment)
    started = time.monotonic()
    stack.resume_queue("moderation")
    wait_until(
        lambda: len(stack.sql(DECIDED_SQL, (after,))) >= count,
        timeout=max(60, count / 20),
        interval=POLL_SECONDS * 5,
        message=f"{count} comments were not all moderated",
    )
    seconds = time.monotonic() - started
    statuses = dict(
        stack.sql(
            "SELECT status, count(*) FROM comments_comment WHERE id > %s GROUP BY status", (after,)
        )
    )
    return {
        "status": "ok",
        "count": count,
        "seconds": seconds,
        "per_second": count / seconds,
        "decisions": statuses,
    }


def moderation_latency(
    stack: Stack, *, path: str, rate: float, seconds: float
) -> dict[str, object]:
    """Offer ``rate`` comments/s for ``seconds``; return submit-to-decision percentiles."""
    stack.sql(LEFTOVER_COMMENTS_SQL)
    after = _last_comment_id(stack)
    submitter = Submitter(url=stack.base_url + path, prefix=f"l{secrets.token_hex(3)}")
    count = round(rate * seconds)
    submitted: dict[str, float] = {}
    decided: dict[str, float] = {}
    done = threading.Event()

    def send(n: int) -> int:
        submitted[submitter.address(n)] = time.monotonic()
        return _comment(submitter, n)

    def poll() -> None:
        while not done.is_set():
            now = time.monotonic()
            for (email,) in stack.sql(DECIDED_SQL, (after,)):
                decided.setdefault(email, now)
            if len(decided) >= count:
                return
            time.sleep(POLL_SECONDS)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=PACED_SENDERS) as pool:
        futures = []
        for n in range(count):
            time.sleep(max(0.0, started + n / rate - time.monotonic()))
            futures.append(pool.submit(send, n))
        statuses = [future.result() for future in futures]
    times = sorted(submitted.values())
    offered = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    poller.join(timeout=max(30.0, seconds * 3))
    done.set()
    refused = sum(status != HTTPStatus.ACCEPTED for status in statuses)
    latencies = [(decided[e] - submitted[e]) * 1000 for e in decided if e in submitted]
    if not latencies:
        raise RuntimeError("no comment offered at a steady rate was decided")
    return {
        "status": "ok",
        "offered_per_second": offered,
        "count": count,
        "decided": len(latencies),
        "refused": refused,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
    }


def email_throughput(stack: Stack, *, path: str, count: int) -> dict[str, object]:
    """Queue ``count`` sign-ups with the email queue paused; time their delivery to the sink."""
    stack.pause_queue("email")
    stack.purge_queues()
    # The web rounds leave queued sign-up emails: a batch would send them too.
    stack.sql("UPDATE subscriptions_delivery SET status = 'skipped' WHERE status = 'queued'")
    submitter = Submitter(url=stack.base_url + path, prefix=f"e{secrets.token_hex(3)}")
    _submit_all(submitter, count, _subscribe)
    ours = {submitter.address(n) for n in range(count)}

    def received() -> list[str]:
        return [rcpt for _, rcpts in list(stack.smtp.envelopes) for rcpt in rcpts if rcpt in ours]

    started = time.monotonic()
    stack.resume_queue("email")
    try:
        wait_until(
            lambda: len(set(received())) >= count, timeout=max(60, count / 20), interval=0.02
        )
    except TimeoutError:
        logger.warning("not every confirmation arrived in time")
    seconds = time.monotonic() - started
    time.sleep(1)  # a redelivered task would send its message again within this time
    messages = received()
    distinct = len(set(messages))
    return {
        "status": "ok",
        "count": count,
        "seconds": seconds,
        "per_second": distinct / seconds,
        "lost": count - distinct,
        "doubled": len(messages) - distinct,
    }


@contextmanager
def approvals_flowing(stack: Stack, *, path: str, rate: float) -> Iterator[None]:
    """Keep new comments on ``path`` being submitted and moderated at ``rate`` per second.

    Each approval changes the article's public list, so a per-article cache must be
    invalidated that often. The moderation backlog of earlier rounds is dropped first: the
    unchecked rows that the POST rounds left (the rows are the queue), not only the broker's
    messages, or the woken worker approves thousands of them during this round and the next.
    """
    stack.purge_queues(("moderation",))
    stack.sql(LEFTOVER_COMMENTS_SQL)
    stack.resume_queue("moderation")
    submitter = Submitter(url=stack.base_url + path, prefix=f"a{secrets.token_hex(3)}")
    stop = threading.Event()

    def submit() -> None:
        started, n = time.monotonic(), 0
        while not stop.is_set():
            _comment(submitter, n)
            n += 1
            stop.wait(max(0.0, started + n / rate - time.monotonic()))

    thread = threading.Thread(target=submit, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
        stack.pause_queue("moderation")
