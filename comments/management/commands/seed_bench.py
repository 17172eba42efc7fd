"""Bulk rows for the scale benchmark: articles, approved comments and confirmed subscribers.

Fast on purpose: rows go in with ``bulk_create`` in batches, each batch its own
transaction, and a comment's sanitised HTML is computed once per distinct body (the bodies
come from a small pool). Run it again to add more: keys and addresses continue after the
rows an earlier run created.
"""

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import reset_queries, transaction
from django.utils import timezone
from tqdm import tqdm

from comments.models import Article, Comment
from comments.sanitize import sanitize
from subscriptions.models import ConsentEvent, MailingList, Subscriber, Subscription

ARTICLE_PREFIX = "seed-"
EMAIL_DOMAIN = "seed.example.org"
LIST_SLUG = "daily"
# What the consent log records for these synthetic subscribers: no reader saw a form.
CONSENT_VERSION = "seed_bench"
CONSENT_TEXT = "Synthetic subscriber added in bulk for the scale benchmark."
BODIES = [
    "Great overview of the rare earth supply chain, thanks!",
    "Does anyone know when the next price report comes out?",
    "Neodymium prices have been volatile all year.\n\nI expect more of the same.",
    "Interesting read. The refining capacity is the real bottleneck, not mining.",
    "Source for the export figures? https://example.org/data would help.",
    "I work in magnets: the dysprosium numbers match what we see.",
    "Recycling will not close the gap this decade, in my view.",
    "Thanks for covering the permitting side too, it is rarely mentioned.",
    "What about the new separation plant announced last month?",
    "Good piece, but the chart in the second section has the wrong units.",
]

T = TypeVar("T")


def _batches(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while batch := list(islice(items, size)):
        yield batch


def confirmed_subscriptions(
    subscribers: Iterable[Subscriber], *, mailing_list: MailingList, now: datetime
) -> list[Subscription]:
    """Subscribe each of ``subscribers`` to ``mailing_list``, confirmed at ``now``, in bulk."""
    return Subscription.objects.bulk_create(
        Subscription(
            subscriber=subscriber,
            mailing_list=mailing_list,
            status=Subscription.Status.CONFIRMED,
            requested_at=now,
            confirmed_at=now,
        )
        for subscriber in subscribers
    )


class Command(BaseCommand):
    help = (
        "Add N approved comments (spread over A articles) and M confirmed subscribers of "
        "the daily list, in bulk, for the scale benchmark. Adds to what exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--comments", type=int, default=0, help="Approved comments to add.")
        parser.add_argument("--subscribers", type=int, default=0, help="Subscribers to add.")
        parser.add_argument(
            "--articles",
            type=int,
            default=None,
            help=(
                "Articles to add for the comments (default: one per 50 comments; 0 spreads "
                "them over the articles earlier runs added)."
            ),
        )
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        comments: int = options["comments"]
        subscribers: int = options["subscribers"]
        articles: int = options["articles"]
        if articles is None:
            articles = max(1, -(-comments // 50))
        batch_size: int = options["batch_size"]
        if min(comments, subscribers, articles) < 0 or batch_size < 1:
            raise CommandError("Counts must be zero or more and --batch-size at least 1.")
        self.batch_size = batch_size
        self.progress = not options["no_progress"]
        if comments:
            self._comments(count=comments, article_count=articles)
        if subscribers:
            self._subscribers(count=subscribers)
        self.stdout.write(
            f"Added {comments} approved comments on {articles if comments else 0} articles "
            f"and {subscribers} confirmed subscribers."
        )

    def _bar(self, *, total: int, unit: str) -> tqdm:
        return tqdm(total=total, unit=unit, disable=not self.progress, file=self.stderr)

    def _articles(self, *, count: int) -> list[int]:
        start = Article.objects.filter(key__startswith=ARTICLE_PREFIX).count()
        now = timezone.now()
        created = []
        for batch in _batches(iter(range(start, start + count)), self.batch_size):
            with transaction.atomic():
                created += Article.objects.bulk_create(
                    Article(
                        key=f"{ARTICLE_PREFIX}{n}",
                        title=f"Seeded article {n}",
                        published_at=now - timedelta(hours=n),
                    )
                    for n in batch
                )
        return [article.pk for article in created]

    def _comments(self, *, count: int, article_count: int) -> None:
        article_ids = self._articles(count=article_count) or list(
            Article.objects.filter(key__startswith=ARTICLE_PREFIX).values_list("pk", flat=True)
        )
        if not article_ids:
            raise CommandError("No seeded articles to add comments to: give --articles.")
        html = {body: sanitize(body) for body in BODIES}
        now = timezone.now()

        def rows() -> Iterator[Comment]:
            for n in range(count):
                body = BODIES[n % len(BODIES)]
                created = now - timedelta(seconds=count - n)
                yield Comment(
                    article_id=article_ids[n % len(article_ids)],
                    author_name=f"Reader {n % 5000}",
                    author_email=f"reader{n % 5000}@{EMAIL_DOMAIN}",
                    body=body,
                    body_html=html[body],
                    status=Comment.Status.APPROVED,
                    status_changed_at=created,
                    checked_at=created,
                    created_at=created,
                )

        with self._bar(total=count, unit="comment") as bar:
            for batch in _batches(rows(), self.batch_size):
                with transaction.atomic():
                    Comment.objects.bulk_create(batch)
                reset_queries()  # with DEBUG on, Django keeps every statement's SQL
                bar.update(len(batch))

    def _subscribers(self, *, count: int) -> None:
        mailing_list, _ = MailingList.objects.get_or_create(
            slug=LIST_SLUG, defaults={"name": "Daily newsletter"}
        )
        start = Subscriber.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").count()
        now = timezone.now()
        with self._bar(total=count, unit="subscriber") as bar:
            for batch in _batches(iter(range(start, start + count)), self.batch_size):
                with transaction.atomic():
                    created = Subscriber.objects.bulk_create(
                        Subscriber(email=f"subscriber{n}@{EMAIL_DOMAIN}") for n in batch
                    )
                    confirmed_subscriptions(created, mailing_list=mailing_list, now=now)
                    ConsentEvent.objects.bulk_create(
                        ConsentEvent(
                            subscriber=subscriber,
                            mailing_list=mailing_list,
                            action=ConsentEvent.Action.CONFIRMED,
                            source=ConsentEvent.Source.IMPORT,
                            created_at=now,
                            consent_version=CONSENT_VERSION,
                            consent_text=CONSENT_TEXT,
                            detail="seed_bench",
                        )
                        for subscriber in created
                    )
                reset_queries()
                bar.update(len(batch))
