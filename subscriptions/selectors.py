"""Reads of the subscriptions capability."""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from comments.models import Article
from subscriptions import tokens
from subscriptions.models import (
    Edition,
    EditionArticle,
    EditionDelivery,
    MailingList,
    Subscriber,
    Subscription,
)

DEFAULT_LIST = "daily"
Status = Subscription.Status


def subscribers_by_email(*, email: str) -> QuerySet[Subscriber]:
    """Return the (at most one) subscriber with this address, whatever its case.

    Compares LOWER(email), the expression of the unique index, so the index is used.
    """
    return Subscriber.objects.alias(email_lower=Lower("email")).filter(
        email_lower=email.strip().lower()
    )


def subscriber_id_for_email(*, email: str) -> int | None:
    return subscribers_by_email(email=email).values_list("pk", flat=True).first()


def lists_public() -> QuerySet[MailingList]:
    return MailingList.objects.filter(is_public=True).order_by("name")


def lists_by_slugs(*, slugs: Iterable[str]) -> tuple[list[MailingList], list[str]]:
    """Return the public lists named, and the slugs that name none."""
    wanted = list(dict.fromkeys(slugs))
    found = {m.slug: m for m in lists_public().filter(slug__in=wanted)}
    return [found[s] for s in wanted if s in found], [s for s in wanted if s not in found]


def lists_pending_for(*, subscriber: Subscriber) -> list[MailingList]:
    return list(
        MailingList.objects.filter(
            subscriptions__subscriber=subscriber, subscriptions__status=Status.PENDING
        ).order_by("name")
    )


def subscriptions_of(*, subscriber_id: int) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(subscriber_id=subscriber_id)
        .select_related("mailing_list")
        .order_by("mailing_list__name")
    )


def subscriptions_on_list(
    *, mailing_list: MailingList, status: str | None
) -> QuerySet[Subscription]:
    """Return the list's subscriptions with their address, for integrations and exports."""
    subscriptions = Subscription.objects.filter(mailing_list=mailing_list).select_related(
        "subscriber"
    )
    if status:
        subscriptions = subscriptions.filter(status=status)
    if status == Status.CONFIRMED:
        # Confirmed means "may be mailed": a suppressed address never is.
        subscriptions = subscriptions.filter(subscriber__suppression="")
    return subscriptions.order_by("id")


def subscriptions_confirmed(*, mailing_list: MailingList) -> QuerySet[Subscription]:
    """Return who may be mailed on the list: confirmed and not suppressed."""
    return (
        Subscription.objects.filter(mailing_list=mailing_list, status=Status.CONFIRMED)
        .filter(subscriber__suppression="")
        .select_related("subscriber")
        .order_by("id")
    )


def list_counts() -> QuerySet[MailingList]:
    """Return every list annotated with its number of subscriptions in each status."""
    return MailingList.objects.annotate(
        **{
            f"{status}_count": Count("subscriptions", filter=Q(subscriptions__status=status))
            for status in Status.values
        },
        suppressed_count=Count(
            "subscriptions", filter=~Q(subscriptions__subscriber__suppression="")
        ),
    ).order_by("name")


def confirmation_subscriber(*, token: str) -> Subscriber:
    """Return whom a confirmation link names, without changing anything.

    Raise tokens.TokenInvalid (tampered, or the address is gone) or tokens.TokenExpired
    (too old, or a newer link replaced it).
    """
    content = tokens.confirmation_token_read(token)
    subscriber = Subscriber.objects.filter(pk=content.subscriber_id).first()
    if subscriber is None:
        raise tokens.TokenInvalid()
    if not secrets.compare_digest(subscriber.confirm_nonce, content.nonce):
        raise tokens.TokenExpired(subscriber_id=subscriber.pk)
    return subscriber


# --- editions --------------------------------------------------------------------------

EditionState = Edition.State
# The first edition of a list looks back this far at most.
FIRST_EDITION_WINDOW = timedelta(hours=24)
# An article that arrives after an edition's cutoff dated before it (the feed is polled
# every few minutes) goes into the next edition if it is at most this old.
LATE_ARRIVAL_WINDOW = timedelta(hours=24)
# The states whose editions keep their articles: a missed edition, or one cancelled before
# anything went out, gives them back to the next.
_KEEPING = [
    EditionState.SCHEDULED,
    EditionState.SENDING,
    EditionState.PAUSED,
    EditionState.SENT,
    EditionState.SKIPPED,
]
# Editions a reader may have received, so the archive shows them.
ARCHIVED = [EditionState.SENDING, EditionState.PAUSED, EditionState.SENT, EditionState.CANCELLED]


def editions_keeping_articles(*, mailing_list: MailingList) -> QuerySet[Edition]:
    has_items = Exists(EditionArticle.objects.filter(edition=OuterRef("pk")))
    return Edition.objects.filter(mailing_list=mailing_list).filter(
        Q(state__in=_KEEPING) | Q(state=EditionState.CANCELLED) & has_items
    )


def edition_previous(*, mailing_list: MailingList) -> Edition | None:
    """Return the edition whose cutoff the next one starts from."""
    return editions_keeping_articles(mailing_list=mailing_list).order_by("-cutoff", "-pk").first()


def edition_articles_new(*, mailing_list: MailingList, now: datetime) -> list[Article]:
    """Return the articles the list's next edition would carry, newest first.

    Published since the previous edition's cutoff (the first: since the list was created,
    at most a day back), not after ``now``, never in an edition of the list already.
    """
    previous = edition_previous(mailing_list=mailing_list)
    if previous is None:
        window = Q(published_at__gt=_first_window_start(mailing_list=mailing_list, now=now))
    else:
        late = Q(
            created_at__gt=previous.created_at,
            published_at__gt=previous.cutoff - LATE_ARRIVAL_WINDOW,
        )
        window = Q(published_at__gt=previous.cutoff) | late
    taken = EditionArticle.objects.filter(mailing_list=mailing_list, article=OuterRef("pk"))
    return list(
        Article.objects.filter(window, published_at__lte=now)
        .exclude(Exists(taken))
        .order_by("-published_at", "-id")
    )


def _first_window_start(*, mailing_list: MailingList, now: datetime) -> datetime:
    """Return where the first edition looks back to: a day before it, or before the first
    edition that gave its articles back (missed or cancelled), never before the list."""
    first = Edition.objects.filter(mailing_list=mailing_list).aggregate(at=Min("scheduled_for"))
    start = min(now, first["at"] or now) - FIRST_EDITION_WINDOW
    return max(mailing_list.created_at, start)


def edition_articles(*, edition: Edition) -> list[Article]:
    return [item.article for item in edition.items.select_related("article").order_by("position")]


def editions_archived(*, mailing_list: MailingList) -> QuerySet[Edition]:
    """Return the editions readers received, newest first (none cancelled before sending)."""
    return (
        Edition.objects.filter(mailing_list=mailing_list, state__in=ARCHIVED)
        .exclude(state=EditionState.CANCELLED, sent=0)
        .order_by("-number")
    )


def list_public_get(*, slug: str) -> MailingList | None:
    return lists_public().filter(slug=slug).first()


def edition_archived(*, mailing_list: MailingList, number: int) -> Edition | None:
    """Return the list's edition with this number if readers received it, or None."""
    return editions_archived(mailing_list=mailing_list).filter(number=number).first()


def editions_under_way() -> QuerySet[Edition]:
    """Return the editions not finished yet, for the status command and admin."""
    under_way = [EditionState.SCHEDULED, EditionState.SENDING, EditionState.PAUSED]
    return Edition.objects.filter(state__in=under_way).select_related("mailing_list")


def editions_to_start(*, now: datetime, delay: timedelta) -> list[int]:
    """Return the scheduled editions still in time whose start did not happen (or failed)."""
    return list(
        Edition.objects.filter(
            state=EditionState.SCHEDULED, scheduled_for__gte=now - delay, scheduled_for__lte=now
        ).values_list("pk", flat=True)
    )


def editions_late(*, now: datetime, delay: timedelta) -> list[int]:
    """Return the scheduled editions that did not start within ``delay`` of their time."""
    return list(
        Edition.objects.filter(
            state=EditionState.SCHEDULED, scheduled_for__lt=now - delay
        ).values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class Progress:
    """How far an edition's sending got; rate and time left only while it is under way."""

    recipients: int
    sent: int
    failed: int
    skipped: int  # stopped before sending: unsubscribed, bounced or cancelled meanwhile
    remaining: int
    rate: float | None  # messages per second since it started
    seconds_left: float | None

    @property
    def percent(self) -> int:
        done = self.recipients - self.remaining
        return 100 if not self.recipients else int(100 * done / self.recipients)


def edition_delivery_counts(*, edition: Edition) -> dict[str, int]:
    rows = EditionDelivery.objects.filter(edition=edition).values("state").annotate(n=Count("pk"))
    return {row["state"]: row["n"] for row in rows.order_by()}


def edition_progress(*, edition: Edition, now: datetime) -> Progress:
    """Return the edition's counts: from its delivery rows while it sends, else as stored."""
    if edition.state not in (EditionState.SENDING, EditionState.PAUSED):
        return Progress(edition.recipients, edition.sent, edition.failed, 0, 0, None, None)
    counts = edition_delivery_counts(edition=edition)
    Row = EditionDelivery.State
    sent, failed, skipped = (
        counts.get(Row.SENT, 0),
        counts.get(Row.FAILED, 0),
        counts.get(Row.SKIPPED, 0),
    )
    recipients = max(edition.recipients, sum(counts.values()))
    remaining = max(0, recipients - sent - failed - skipped)
    rate = seconds_left = None
    if edition.started_at is not None and now > edition.started_at:
        rate = sent / (now - edition.started_at).total_seconds()
        seconds_left = remaining / rate if rate > 0 else None
    return Progress(recipients, sent, failed, skipped, remaining, rate, seconds_left)
