"""Reads: everything the site holds on one email address, as JSON-ready dictionaries."""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from comments.models import Comment, Notification
from privacy.hashing import email_hash
from privacy.models import ErasedConsent, SuppressedHash
from subscriptions.models import ConsentEvent, Delivery, Subscriber
from subscriptions.selectors import subscribers_by_email

Data = dict[str, Any]


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def comments_by_email(*, email: str) -> QuerySet[Comment]:
    return Comment.objects.filter(author_email__iexact=email.strip())


def reply_notifications_to(*, email: str) -> QuerySet[Notification]:
    """Return the reply emails owed or sent to the address (as the parent's author)."""
    return Notification.objects.filter(
        kind=Notification.Kind.REPLY, comment__parent__author_email__iexact=email.strip()
    )


def suppression_for_email(*, email: str) -> str:
    """Return why an erased address must never be mailed again, or an empty string."""
    row = SuppressedHash.objects.filter(email_hash=email_hash(email)).first()
    return row.reason if row is not None else ""


def _comment_data(comment: Comment) -> Data:
    return {
        "id": comment.pk,
        "article": {
            "key": comment.article.key,
            "title": comment.article.title,
            "url": comment.article.url,
        },
        "parent_id": comment.parent_id,
        "created_at": _when(comment.created_at),
        "status": comment.status,
        "status_changed_at": _when(comment.status_changed_at),
        "author_name": comment.author_name,
        "author_email": comment.author_email,
        "author_url": comment.author_url,
        "body": comment.body,
        "notify_replies": comment.notify_replies,
        "ip_address": comment.ip_address,
        "user_agent": comment.user_agent,
        "referrer": comment.referrer,
    }


def _consent_data(event: ConsentEvent) -> Data:
    return {
        "created_at": _when(event.created_at),
        "action": event.action,
        "list": event.mailing_list.slug if event.mailing_list else None,
        "source": event.source,
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        "consent_version": event.consent_version,
        "consent_text": event.consent_text,
        "detail": event.detail,
    }


def _delivery_data(delivery: Delivery) -> Data:
    return {
        "kind": delivery.kind,
        "list": delivery.mailing_list.slug,
        "status": delivery.status,
        "created_at": _when(delivery.created_at),
        "sent_at": _when(delivery.sent_at),
    }


def _notification_data(notification: Notification) -> Data:
    return {
        "kind": f"comment_{notification.kind}",
        "comment_id": notification.comment_id,
        "status": "sent" if notification.sent_at else "queued",
        "created_at": _when(notification.created_at),
        "sent_at": _when(notification.sent_at),
    }


def _subscriber_data(subscriber: Subscriber) -> Data:
    return {
        "email": subscriber.email,
        "created_at": _when(subscriber.created_at),
        "suppression": subscriber.suppression,
        "suppressed_at": _when(subscriber.suppressed_at),
        "soft_bounces": subscriber.soft_bounces,
        "subscriptions": [
            {
                "list": s.mailing_list.slug,
                "list_name": s.mailing_list.name,
                "status": s.status,
                "created_at": _when(s.created_at),
                "requested_at": _when(s.requested_at),
                "confirmed_at": _when(s.confirmed_at),
                "unsubscribed_at": _when(s.unsubscribed_at),
            }
            for s in subscriber.subscriptions.select_related("mailing_list").order_by("id")
        ],
        "consent_log": [
            _consent_data(event)
            for event in subscriber.consent_events.select_related("mailing_list")
        ],
    }


def _erased_data(*, email: str) -> Data:
    """Return what earlier erasures kept under the address's hash."""
    hashed = email_hash(email)
    kept = ErasedConsent.objects.filter(email_hash=hashed).select_related("mailing_list")
    return {
        "consent_log": [
            {
                "created_at": _when(event.created_at),
                "action": event.action,
                "list": event.mailing_list.slug if event.mailing_list else None,
                "source": event.source,
                "consent_version": event.consent_version,
                "erased_at": _when(event.erased_at),
            }
            for event in kept
        ],
        "suppression": suppression_for_email(email=email),
    }


def personal_data_collect(*, email: str) -> Data:
    """Return everything held on the address (comments, newsletter, emails sent)."""
    subscriber = subscribers_by_email(email=email).first()
    comments = comments_by_email(email=email).select_related("article").order_by("created_at", "id")
    deliveries = Delivery.objects.filter(subscriber=subscriber).select_related("mailing_list")
    notifications = reply_notifications_to(email=email).order_by("created_at", "id")
    emails = (
        [_delivery_data(d) for d in deliveries.order_by("created_at", "id")] if subscriber else []
    )
    emails += [_notification_data(n) for n in notifications]
    return {
        "email": email.strip(),
        "comments": [_comment_data(c) for c in comments],
        "newsletter": _subscriber_data(subscriber) if subscriber is not None else None,
        "emails": sorted(emails, key=lambda e: e["created_at"] or ""),
        "kept_after_erasure": _erased_data(email=email),
    }
