"""State of the newsletter: lists, subscribers, their per-list status, consent and mail."""

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from reex.validators import validate_single_line


class MailingList(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    # One line: it goes into the Subject and List-Id headers of the list's emails.
    name = models.CharField(max_length=200, validators=[validate_single_line])
    description = models.TextField(blank=True)
    # Only public lists are offered on the sign-up box and accepted by the API.
    is_public = models.BooleanField(default=True)
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
