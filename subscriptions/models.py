"""State of the newsletter: lists, subscribers, their per-list status, consent and mail."""

import zoneinfo
from datetime import time
from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from reex.validators import validate_single_line

if TYPE_CHECKING:
    from comments.models import Article


@cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    """Accept an IANA time zone name (Europe/Paris, America/New_York, UTC)."""
    if value not in time_zones():
        raise ValidationError(
            "Not a known time zone; use an IANA name such as Europe/Paris.", code="time_zone"
        )


def default_send_time() -> time:
    return settings.REEX_NEWSLETTER_TIME


def default_time_zone() -> str:
    return settings.REEX_NEWSLETTER_TIME_ZONE


class MailingList(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    # One line: it goes into the Subject and List-Id headers of the list's emails.
    name = models.CharField(max_length=200, validators=[validate_single_line])
    description = models.TextField(blank=True)
    # Only public lists are offered on the sign-up box and accepted by the API.
    is_public = models.BooleanField(default=True)
    # The daily edition goes out at this time of day in the list's time zone.
    send_time = models.TimeField(default=default_send_time)
    time_zone = models.CharField(
        max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    include_conversations = models.BooleanField(
        "end with the liveliest conversations",
        default=False,
        help_text="End each edition with the most commented of its articles.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Suppression(models.TextChoices):
    NONE = "", "not suppressed"
    BOUNCED = "bounced", "bounced"
    COMPLAINED = "complained", "complained"
    MANUAL = "manual", "suppressed by staff"


class Subscriber(models.Model):
    """One email address. A suppressed address is never mailed again."""

    # Stored lower-cased (reex.addresses); unique whatever the case, for older rows too.
    email = models.EmailField(max_length=254)
    suppression = models.CharField(
        max_length=20, choices=Suppression.choices, default=Suppression.NONE, blank=True
    )
    suppressed_at = models.DateTimeField(null=True, blank=True)
    # Soft bounces in a row; any delivery or confirmation resets it.
    soft_bounces = models.PositiveIntegerField(default=0)
    # The nonce of the one confirmation link that is alive; a new email replaces it.
    confirm_nonce = models.CharField(max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="subscriber_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_suppressed(self) -> bool:
        return bool(self.suppression)


class Subscription(models.Model):
    """The status of one address on one list."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        CONFIRMED = "confirmed", "confirmed"
        UNSUBSCRIBED = "unsubscribed", "unsubscribed"

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="subscriptions"
    )
    mailing_list = models.ForeignKey(
        MailingList, on_delete=models.PROTECT, related_name="subscriptions"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # The last sign-up request: the date the pending purge counts from.
    requested_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "mailing_list"], name="subscription_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["mailing_list", "status", "id"]),
            models.Index(fields=["status", "requested_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber_id} on {self.mailing_list_id}: {self.status}"


class ConsentEvent(models.Model):
    """Append-only proof of consent: every request, confirmation, unsubscription, bounce."""

    class Action(models.TextChoices):
        REQUESTED = "requested", "sign-up requested"
        CONFIRMED = "confirmed", "confirmed"
        UNSUBSCRIBED = "unsubscribed", "unsubscribed"
        SOFT_BOUNCED = "soft_bounced", "soft bounce"
        BOUNCED = "bounced", "bounced"
        COMPLAINED = "complained", "complained"
        SUPPRESSED = "suppressed", "suppressed by staff"

    class Source(models.TextChoices):
        FORM = "form", "sign-up form or link page"
        API = "api", "API"
        ADMIN = "admin", "admin"
        IMPORT = "import", "import"
        EMAIL = "email", "one-click from a mail client"
        WEBHOOK = "webhook", "email provider webhook"

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="consent_events"
    )
    # Empty for events about the whole address (bounces, complaints).
    mailing_list = models.ForeignKey(
        MailingList, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    consent_version = models.CharField(max_length=50, blank=True)
    consent_text = models.TextField(blank=True)
    # The email provider's event id, so a webhook delivered twice is counted once.
    reference = models.CharField(max_length=200, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reference"],
                condition=~models.Q(reference=""),
                name="consent_event_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} ({self.source}) at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("The consent log is append-only.")
        super().save(*args, **kwargs)


class Delivery(models.Model):
    """One email to a subscriber. The sending task claims the row, so it goes out once."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "confirmation"
        WELCOME = "welcome", "welcome"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        SKIPPED = "skipped", "skipped"
        FAILED = "failed", "failed"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    mailing_list = models.ForeignKey(MailingList, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    # For confirmations: the nonce its link carries (a newer confirmation supersedes it).
    nonce = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Set once the task is on the broker; still empty means the broker was down.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["subscriber", "kind", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.subscriber_id}: {self.status}"


class Edition(models.Model):
    """One day's issue of a list: its articles, rendered once, then sent to each recipient."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", "scheduled"
        SENDING = "sending", "sending"
        PAUSED = "paused", "paused"
        SENT = "sent", "sent"
        SKIPPED = "skipped", "skipped (nothing new)"
        MISSED = "missed", "missed (too late)"
        CANCELLED = "cancelled", "cancelled"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "the list's send time"
        MANUAL = "manual", "sent now by staff"

    mailing_list = models.ForeignKey(MailingList, on_delete=models.PROTECT, related_name="editions")
    # Per list, 1, 2, 3...: the edition's address in the public archive.
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.SCHEDULED)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.SCHEDULE)
    # The day the edition is for, in the list's time zone: one scheduled edition a day.
    issue_date = models.DateField()
    scheduled_for = models.DateTimeField()
    # The articles published up to this instant are in this edition or an earlier one.
    cutoff = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Rendered once, with placeholders for the address and the unsubscribe link.
    subject = models.CharField(max_length=300, blank=True)
    html = models.TextField(blank=True)
    text = models.TextField(blank=True)
    recipients = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # SMTP failures in a row; at REEX_SEND_MAX_ERRORS the edition pauses itself.
    consecutive_errors = models.PositiveIntegerField(default=0)
    # Why it was skipped, missed, paused or cancelled.
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    articles: "models.ManyToManyField[Article, EditionArticle]" = models.ManyToManyField(
        "comments.Article", through="EditionArticle", related_name="editions"
    )

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailing_list", "number"], name="edition_number_unique"
            ),
            models.UniqueConstraint(
                fields=["mailing_list", "issue_date"],
                condition=models.Q(trigger="schedule"),
                name="edition_one_scheduled_a_day",
            ),
        ]
        indexes = [models.Index(fields=["state", "scheduled_for"], name="edition_state_scheduled")]

    def __str__(self) -> str:
        return f"{self.mailing_list} #{self.number} ({self.issue_date}, {self.state})"

    @property
    def remaining(self) -> int:
        return max(0, self.recipients - self.sent - self.failed)


class EditionArticle(models.Model):
    """An article in an edition; the list on the row keeps it to one edition per list."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="items")
    mailing_list = models.ForeignKey(MailingList, on_delete=models.PROTECT, related_name="+")
    article = models.ForeignKey("comments.Article", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["edition", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailing_list", "article"], name="edition_article_once_per_list"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} in edition {self.edition_id}"


class EditionDelivery(models.Model):
    """One recipient of one edition, fixed when it starts; workers claim rows to send."""

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"
        SKIPPED = "skipped", "skipped"

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    # A claim lapses at this time: a worker killed mid-batch gives its rows back.
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "edition deliveries"
        constraints = [
            models.UniqueConstraint(fields=["edition", "subscriber"], name="edition_delivery_once"),
        ]
        indexes = [
            models.Index(
                fields=["edition", "state", "claimed_until"], name="edition_delivery_claim"
            ),
        ]

    def __str__(self) -> str:
        return f"edition {self.edition_id} to {self.subscriber_id}: {self.state}"
