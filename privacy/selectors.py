"""Reads: everything the site holds on one email address, as JSON-ready dictionaries."""

from datetime import datetime
from typing import Any

from comments.models import Comment, Notification
from comments.selectors import comments_by_email, reply_notifications_to
from privacy.hashing import email_hash
from privacy.models import ErasedConsent, SuppressedHash
from subscriptions.models import (
    ConsentEvent,
    Delivery,
    EditionDelivery,
    MailingList,
    Subscriber,
    Subscription,
)
from subscriptions.selectors import subscribers_by_email

Data = dict[str, Any]


def _fields(obj: object, *names: str) -> Data:
    """Return the named attributes, times as ISO 8601 text."""
    values = {name: getattr(obj, name) for name in names}
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def _slug(mailing_list: MailingList | None) -> str | None:
    return mailing_list.slug if mailing_list is not None else None


def suppression_for_email(*, email: str) -> str:
    """Return why an erased address must never be mailed again, or an empty string."""
    row = SuppressedHash.objects.filter(email_hash=email_hash(email)).first()
    return row.reason if row is not None else ""


def _comment_data(comment: Comment) -> Data:
    article = _fields(comment.article, "key", "title", "url")
    return {
        "id": comment.pk,
        "article": article,
        **_fields(comment, "parent_id", "created_at", "status", "status_changed_at"),
        **_fields(comment, "author_name", "author_email", "author_url", "body"),
        **_fields(comment, "notify_replies", "ip_address", "user_agent", "referrer"),
    }


def _consent_data(event: ConsentEvent) -> Data:
    return {
        **_fields(event, "created_at", "action"),
        "list": _slug(event.mailing_list),
        **_fields(event, "source", "ip_address", "user_agent"),
        **_fields(event, "consent_version", "consent_text", "detail"),
    }


def _delivery_data(delivery: Delivery) -> Data:
    return {
        "kind": delivery.kind,
        "list": _slug(delivery.mailing_list),
        **_fields(delivery, "status", "created_at", "sent_at"),
    }


def _edition_delivery_data(delivery: EditionDelivery) -> Data:
    edition = delivery.edition
    return {
        "kind": "edition",
        "list": _slug(edition.mailing_list),
        **_fields(edition, "number", "subject"),
        "status": delivery.state,
        "created_at": _fields(edition, "started_at")["started_at"],
        **_fields(delivery, "sent_at"),
    }


def _notification_data(notification: Notification) -> Data:
    return {
        "kind": f"comment_{notification.kind}",
        "comment_id": notification.comment_id,
        "status": "sent" if notification.sent_at else "queued",
        **_fields(notification, "created_at", "sent_at"),
    }


def _subscription_data(subscription: Subscription) -> Data:
    return {
        "list": _slug(subscription.mailing_list),
        "list_name": subscription.mailing_list.name,
        **_fields(subscription, "status", "created_at", "requested_at"),
        **_fields(subscription, "confirmed_at", "unsubscribed_at"),
    }


def _subscriber_data(subscriber: Subscriber) -> Data:
    subscriptions = subscriber.subscriptions.select_related("mailing_list").order_by("id")
    events = subscriber.consent_events.select_related("mailing_list")
    return {
        **_fields(subscriber, "email", "created_at", "suppression", "suppressed_at"),
        "soft_bounces": subscriber.soft_bounces,
        "subscriptions": [_subscription_data(s) for s in subscriptions],
        "consent_log": [_consent_data(event) for event in events],
    }


def _erased_data(*, email: str) -> Data:
    """Return what earlier erasures kept under the address's hash."""
    hashed = email_hash(email)
    kept = ErasedConsent.objects.filter(email_hash=hashed).select_related("mailing_list")
    return {
        "consent_log": [
            {
                **_fields(event, "created_at", "action"),
                "list": _slug(event.mailing_list),
                **_fields(event, "source", "consent_version", "erased_at"),
            }
            for event in kept
        ],
        "suppression": suppression_for_email(email=email),
    }


def _subscriber_emails(subscriber: Subscriber) -> list[Data]:
    deliveries = Delivery.objects.filter(subscriber=subscriber).select_related("mailing_list")
    editions = EditionDelivery.objects.filter(subscriber=subscriber).select_related(
        "edition__mailing_list"
    )
    return [_delivery_data(d) for d in deliveries.order_by("created_at", "id")] + [
        _edition_delivery_data(d) for d in editions.order_by("edition__started_at", "id")
    ]


def personal_data_collect(*, email: str) -> Data:
    """Return everything held on the address (comments, newsletter, emails sent)."""
    subscriber = subscribers_by_email(email=email).first()
    comments = comments_by_email(email=email).select_related("article").order_by("created_at", "id")
    notifications = reply_notifications_to(email=email).order_by("created_at", "id")
    emails = _subscriber_emails(subscriber) if subscriber else []
    emails += [_notification_data(n) for n in notifications]
    return {
        "email": email.strip(),
        "comments": [_comment_data(c) for c in comments],
        "newsletter": _subscriber_data(subscriber) if subscriber is not None else None,
        "emails": sorted(emails, key=lambda e: e["created_at"] or ""),
        "kept_after_erasure": _erased_data(email=email),
    }
