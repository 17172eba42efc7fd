"""Reads of the subscriptions capability."""

import secrets
from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower

from subscriptions import tokens
from subscriptions.models import Delivery, MailingList, Subscriber, Subscription

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


def deliveries_unsent_count() -> int:
    """Count the emails queued or being sent (read along the status index)."""
    unsent = (Delivery.Status.QUEUED, Delivery.Status.SENDING)
    return Delivery.objects.filter(status__in=unsent).count()
