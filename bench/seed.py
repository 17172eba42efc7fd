"""Rows the benchmark needs, created inside Django (``manage.py shell -c``) on the stack.

Only models are used here, never views or services, so that a capability still being
built does not stop the rest of the benchmark: a missing one reports itself as n/a.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.db import transaction
from django.utils import timezone

BENCH_ARTICLE = "bench-article"
APPROVED_COMMENTS = 50


@transaction.atomic
def article_with_comments(*, key: str = BENCH_ARTICLE, count: int = APPROVED_COMMENTS) -> None:
    """Create an open article with ``count`` approved, sanitised comments."""
    from comments.models import Article, Comment

    article = Article.objects.create(key=key, title="Benchmark article", comments_open=True)
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
    from subscriptions.models import MailingList, Subscriber, Subscription
    from subscriptions.tokens import unsubscribe_token_make

    mailing_list = MailingList.objects.filter(is_public=True).first()
    if mailing_list is None:
        mailing_list = MailingList.objects.create(slug="bench", name="Benchmark list")
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(email=f"u{n}@bench.example.org") for n in range(count)
    )
    now = timezone.now()
    Subscription.objects.bulk_create(
        Subscription(
            subscriber=subscriber,
            mailing_list=mailing_list,
            status=Subscription.Status.CONFIRMED,
            confirmed_at=now,
        )
        for subscriber in subscribers
    )
    tokens = (
        unsubscribe_token_make(subscriber_id=subscriber.pk, list_id=mailing_list.pk)
        for subscriber in subscribers
    )
    Path(out).write_text("".join(f"/subscriptions/unsubscribe/{token}/\n" for token in tokens))
    sys.stdout.write(f"{count} unsubscribe paths in {out}\n")
