"""What the site keeps about personal-data requests, and what an erasure leaves behind."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from subscriptions.models import ConsentEvent, MailingList, Suppression


class PersonalDataRequest(models.Model):
    """The audit of one export or erasure: which address (hashed), who, when, how much."""

    class Action(models.TextChoices):
        EXPORT = "export", "export"
        ERASE = "erase", "erase"

    class Via(models.TextChoices):
        ADMIN = "admin", "admin"
        COMMAND = "command", "manage.py personal_data"

    action = models.CharField(max_length=10, choices=Action.choices)
    email_hash = models.CharField(max_length=64, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Kept as text too, so the record still says who once the user is deleted.
    actor_label = models.CharField(max_length=150, blank=True)
    via = models.CharField(max_length=10, choices=Via.choices)
    created_at = models.DateTimeField(default=timezone.now)
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "personal data request"
        permissions = [
            ("export_personal_data", "Can export personal data"),
            ("erase_personal_data", "Can erase personal data"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.action} by {self.actor_label or 'system'} at {self.created_at:%Y-%m-%d %H:%M}"
        )


class ErasedConsent(models.Model):
    """One consent-log event of an erased address, reduced to the proof it was given.

    Action, list, source, time and the consent text version; the address only as
    ``privacy.hashing.email_hash``; no IP address, user agent, provider reference or detail.
    """

    email_hash = models.CharField(max_length=64, db_index=True)
    mailing_list = models.ForeignKey(
        MailingList, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=ConsentEvent.Action.choices)
    source = models.CharField(max_length=20, choices=ConsentEvent.Source.choices)
    created_at = models.DateTimeField()
    consent_version = models.CharField(max_length=50, blank=True)
    consent_text = models.TextField(blank=True)
    erased_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "erased consent record"

    def __str__(self) -> str:
        return f"{self.action} ({self.source}) at {self.created_at:%Y-%m-%d %H:%M}"


class SuppressedHash(models.Model):
    """An erased address that must never be mailed again (bounced, complained, staff)."""

    email_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=20, choices=Suppression.choices)
    suppressed_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-erased_at"]
        verbose_name = "suppressed erased address"

    def __str__(self) -> str:
        return f"{self.reason}: {self.email_hash[:12]}…"
