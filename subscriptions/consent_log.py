"""The consent log's writes: one append-only entry per request, confirmation or refusal."""

from collections.abc import Iterable
from typing import Any

from subscriptions.consent import Consent, Requester
from subscriptions.models import ConsentEvent


def consent_values(
    *,
    action: str,
    requester: Requester,
    consent: Consent | None = None,
    reference: str = "",
    detail: str = "",
) -> dict[str, Any]:
    """Return a consent log entry's own values by attribute name (no address, no list)."""
    return {
        "action": action,
        "source": requester.source,
        "ip_address": requester.ip,
        "user_agent": requester.user_agent[:500],
        "consent_version": consent.version if consent else "",
        "consent_text": consent.text if consent else "",
        "reference": reference[:200],
        "detail": detail[:500],
    }


def consent_event(
    *,
    subscriber_id: int,
    action: str,
    requester: Requester,
    list_id: int | None = None,
    consent: Consent | None = None,
    reference: str = "",
    detail: str = "",
) -> ConsentEvent:
    """Return one consent log entry, unsaved (list None: about the whole address)."""
    values = consent_values(
        action=action, requester=requester, consent=consent, reference=reference, detail=detail
    )
    return ConsentEvent(subscriber_id=subscriber_id, mailing_list_id=list_id, **values)


def consent_log(
    *,
    subscriber_id: int,
    action: str,
    requester: Requester,
    list_ids: Iterable[int | None] = (None,),
    consent: Consent | None = None,
    reference: str = "",
    detail: str = "",
) -> None:
    """Append one consent log entry per list (None: about the whole address), in one INSERT."""
    ConsentEvent.objects.bulk_create(
        consent_event(
            subscriber_id=subscriber_id,
            action=action,
            requester=requester,
            list_id=list_id,
            consent=consent,
            reference=reference,
            detail=detail,
        )
        for list_id in list_ids
    )
