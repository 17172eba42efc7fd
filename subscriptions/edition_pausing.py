"""An edition that fails too often pauses itself and tells the staff."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import F
from django.urls import NoReverseMatch, reverse

from reex.enqueue import enqueue
from subscriptions import tasks
from subscriptions.models import Edition

logger = logging.getLogger(__name__)


def errors_count_up(edition_id: int) -> int:
    Edition.objects.filter(pk=edition_id).update(consecutive_errors=F("consecutive_errors") + 1)
    found = Edition.objects.filter(pk=edition_id).values_list("consecutive_errors", flat=True)
    return int(found.first() or 0)


def edition_pause_on_errors(*, edition_id: int, errors: int, error: Exception) -> bool:
    """Pause a sending edition after too many failures in a row and tell the staff."""
    reason = f"paused after {errors} sending failures in a row; the last: {error!r}"
    paused = Edition.objects.filter(pk=edition_id, state=Edition.State.SENDING).update(
        state=Edition.State.PAUSED, reason=reason[:500]
    )
    if paused:
        logger.error("newsletter: edition %s %s", edition_id, reason)
        enqueue(tasks.notify_edition_paused, edition_id)
    return bool(paused)


def edition_paused_notify(*, edition_id: int) -> int:
    """Email the active staff that the edition paused itself; return how many were told."""
    edition = Edition.objects.select_related("mailing_list").get(pk=edition_id)
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    recipients = sorted({user.email for user in staff})
    if not recipients:
        return 0
    path = _admin_path(edition)
    send_mail(
        subject=f"Newsletter paused: {edition}",
        message=(
            f"The edition {edition} stopped sending: {edition.reason}\n\n"
            f"Sent so far: {edition.sent} of {edition.recipients}. Once the mail server "
            f"works again, resume it in admin; it continues where it stopped:\n"
            f"{settings.REEX_BASE_URL}{path}\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)


def _admin_path(edition: Edition) -> str:
    try:
        return reverse("admin:subscriptions_edition_change", args=[edition.pk])
    except NoReverseMatch:  # the edition admin is not installed
        return reverse("admin:index")
