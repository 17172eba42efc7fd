"""Every write about personal data: export (audited), erasure, and IP retention."""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from comments import selectors as comments_selectors
from comments import services as comments_services
from comments.models import Comment
from privacy import selectors
from privacy.hashing import email_hash
from privacy.models import ErasedConsent, PersonalDataRequest, SuppressedHash
from reex import outbound
from reex.addresses import email_clean
from subscriptions import services as subscriptions_services
from subscriptions.models import ConsentEvent, Subscriber
from subscriptions.selectors import subscribers_by_email

logger = logging.getLogger(__name__)

Actor = AbstractBaseUser | AnonymousUser | None
Via = PersonalDataRequest.Via
# Soft bounces say nothing about consent: the reduced log leaves them out.
CONSENT_ACTIONS_KEPT = [a for a in ConsentEvent.Action.values if a != "soft_bounced"]
RETENTION_BATCH = 1000


def _audit(*, action: str, email: str, actor: Actor, via: str, counts: dict[str, int]) -> None:
    user = actor if isinstance(actor, AbstractBaseUser) else None
    PersonalDataRequest.objects.create(
        action=action,
        email_hash=email_hash(email),
        actor_id=user.pk if user is not None else None,
        actor_label=user.get_username() if user is not None else "",
        via=via,
        counts=counts,
    )


@transaction.atomic
def personal_data_export(
    *, email: str, actor: Actor = None, via: str = Via.COMMAND
) -> dict[str, Any]:
    """Return everything held on the address as JSON-ready data, and audit the export."""
    email = email_clean(email)
    data = selectors.personal_data_collect(email=email)
    newsletter = data["newsletter"] or {}
    counts = {
        "comments": len(data["comments"]),
        "subscriptions": len(newsletter.get("subscriptions", [])),
        "consent_events": len(newsletter.get("consent_log", [])),
        "emails": len(data["emails"]),
    }
    _audit(
        action=PersonalDataRequest.Action.EXPORT, email=email, actor=actor, via=via, counts=counts
    )
    return data


@transaction.atomic
def personal_data_erase(
    *, email: str, actor: Actor = None, via: str = Via.COMMAND
) -> dict[str, int]:
    """Erase the address: comments anonymised, newsletter data removed, proof kept hashed.

    All of it in one transaction, audited; return how many rows of each kind changed.
    """
    email = email_clean(email)
    counts = {"notifications": comments_services.reply_notifications_delete(email=email)}
    counts["admin_log_entries"] = _admin_log_scrub(email=email)
    counts["webhook_events"] = _webhook_events_forget(email=email)
    counts["comments"] = comments_services.comments_anonymise(email=email)
    counts |= _subscriber_erase(email=email)
    _audit(
        action=PersonalDataRequest.Action.ERASE, email=email, actor=actor, via=via, counts=counts
    )
    logger.info("privacy: erased an address (%s)", counts)
    return counts


def _admin_log_scrub(*, email: str) -> int:
    """Blank the names admin's history shows for the address's comments and subscriber."""
    comment_ids = comments_selectors.comments_by_email(email=email).values_list("pk", flat=True)
    subscriber_ids = subscribers_by_email(email=email).values_list("pk", flat=True)
    entries = (
        Q(content_type=ContentType.objects.get_for_model(Comment), object_id__in=_ids(comment_ids))
        | Q(
            content_type=ContentType.objects.get_for_model(Subscriber),
            object_id__in=_ids(subscriber_ids),
        )
        | Q(object_repr__icontains=email)
    )
    return LogEntry.objects.filter(entries).update(object_repr="(erased)")


def _webhook_events_forget(*, email: str) -> int:
    """Delete the outbound events about the address's comments and subscriber."""
    comment_ids = comments_selectors.comments_by_email(email=email).values_list("pk", flat=True)
    subscriber_ids = subscribers_by_email(email=email).values_list("pk", flat=True)
    subjects = [f"comment:{pk}" for pk in comment_ids] + [
        f"subscriber:{pk}" for pk in subscriber_ids
    ]
    return outbound.webhook_events_forget(subjects=subjects)


def _ids(pks: Iterable[int]) -> list[str]:
    # LogEntry.object_id is text.
    return [str(pk) for pk in pks]


def _subscriber_erase(*, email: str) -> dict[str, int]:
    """Have subscriptions delete the address; keep the consent proof and suppression hashed."""
    erased = subscriptions_services.subscriber_erase(email=email)
    if erased is None:
        return {
            "subscriptions": 0,
            "deliveries": 0,
            "consent_events": 0,
            "consent_kept": 0,
            "subscribers": 0,
            "suppression_kept": 0,
        }
    hashed = email_hash(email)
    return {
        "subscriptions": erased.subscriptions,
        "deliveries": erased.deliveries,
        "consent_events": len(erased.consent_events),
        "consent_kept": _consent_keep(erased.consent_events, hashed=hashed),
        "suppression_kept": _suppression_keep(erased, hashed=hashed),
        "subscribers": 1,
    }


def _consent_keep(events: Iterable[ConsentEvent], *, hashed: str) -> int:
    now = timezone.now()
    kept = ErasedConsent.objects.bulk_create(
        ErasedConsent(
            email_hash=hashed,
            mailing_list_id=event.mailing_list_id,
            action=event.action,
            source=event.source,
            created_at=event.created_at,
            consent_version=event.consent_version,
            consent_text=event.consent_text,
            erased_at=now,
        )
        for event in events
        if event.action in CONSENT_ACTIONS_KEPT
    )
    return len(kept)


def _suppression_keep(erased: subscriptions_services.SubscriberErased, *, hashed: str) -> int:
    if not erased.suppression:
        return 0
    SuppressedHash.objects.update_or_create(
        email_hash=hashed,
        defaults={"reason": erased.suppression, "suppressed_at": erased.suppressed_at},
    )
    return 1


def comments_anonymise_old_ips(*, now: datetime | None = None) -> int:
    """Clear IP address, user agent and referrer of comments past the retention; return how many.

    ``REEX_IP_RETENTION_DAYS`` = 0 keeps them.
    """
    days = settings.REEX_IP_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return comments_services.comments_request_data_clear(before=cutoff, batch=RETENTION_BATCH)
