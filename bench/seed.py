"""Rows the benchmark needs, created inside Django (``manage.py shell -c``) on the stack.

Only models are used here, never views or services, so that a capability still being
built does not stop the rest of the benchmark: a missing one reports itself as n/a.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from django.core.management import call_command, get_commands
from django.db import transaction
from django.utils import timezone

BENCH_ARTICLE = "bench-article"
APPROVED_COMMENTS = 50
SEED_MARKER = "BENCH_SEED"


def seed_all(*, tokens: int, out: str) -> None:
    """Seed the demo, the bench article and ``tokens`` unsubscribe paths in one process.

    Print one ``BENCH_SEED <part> ok`` (or ``failed: <error>``) line per part: a part
    whose models or command do not exist yet fails alone.
    """
    parts: dict[str, Callable[[], None]] = {
        "seed_demo": _seed_demo,
        "article": article_with_comments,
        "unsubscribe": lambda: unsubscribe_paths(count=tokens, out=out),
    }
    for name, part in parts.items():
        try:
            part()
        except Exception as error:  # reported; the benchmark goes on
            outcome = f"failed: {type(error).__name__}: {error}".replace("\n", " ")[:300]
        else:
            outcome = "ok"
        sys.stdout.write(f"{SEED_MARKER} {name} {outcome}\n")


def _seed_demo() -> None:
    if "seed_demo" not in get_commands():
        raise LookupError("no seed_demo command")
    call_command("seed_demo")


@transaction.atomic
def article_with_comments(*, key: str = BENCH_ARTICLE, count: int = APPROVED_COMMENTS) -> None:
    """Create an open article with ``count`` approved comments, unless it exists (kept)."""
    from comments.models import Article, Comment

    article, created = Article.objects.get_or_create(
        key=key, defaults={"title": "Benchmark article", "comments_open": True}
    )
    if not created:
        return
    now = timezone.now()
    Comment.objects.bulk_create(
        Comment(
            article=article,
            author_name=f"Reader {n}",
            author_email=f"reader{n}@bench.example.org",
            body=f"Approved comment number {n} about rare earth supply.",
            body_html=f"<p>Approved comment number {n} about rare earth supply.</p>",
            status=Comment.Status.APPROVED,
            status_changed_at=now,
            checked_at=now,
            created_at=now,
        )
        for n in range(count)
    )


@transaction.atomic
def unsubscribe_paths(*, count: int, out: str) -> None:
    """Create ``count`` confirmed subscribers; write one unsubscribe path a line to ``out``."""
    from comments.management.commands.seed_bench import confirmed_subscriptions
    from subscriptions.models import MailingList, Subscriber
    from subscriptions.tokens import unsubscribe_token_make

    mailing_list = MailingList.objects.filter(is_public=True).first()
    if mailing_list is None:
        mailing_list = MailingList.objects.create(slug="bench", name="Benchmark list")
    run = secrets.token_hex(3)  # a kept database has the addresses of earlier runs
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(email=f"u{run}-{n}@bench.example.org") for n in range(count)
    )
    confirmed_subscriptions(subscribers, mailing_list=mailing_list, now=timezone.now())
    tokens = (
        unsubscribe_token_make(subscriber_id=subscriber.pk, list_id=mailing_list.pk)
        for subscriber in subscribers
    )
    Path(out).write_text("".join(f"/subscriptions/unsubscribe/{token}/\n" for token in tokens))
