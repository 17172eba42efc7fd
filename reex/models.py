"""State the apps share: the outbox of outbound webhook events."""

import uuid

from django.db import models
from django.utils import timezone


class WebhookDelivery(models.Model):
    """One event owed to one receiver (the signed webhook or Slack); the row is the outbox.

    Written in the transaction that caused the event, sent by a task after commit, swept
    when the broker was down or the retries ran out.
    """

    class Target(models.TextChoices):
        WEBHOOK = "webhook", "Webhook (REEX_WEBHOOK_URL)"
        SLACK = "slack", "Slack (REEX_SLACK_WEBHOOK_URL)"

    # The event's id as receivers see it (X-Reex-Delivery): the same on every attempt.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(max_length=50)
    # What the event is about ("comment:42", "subscriber:7"): erasure finds its rows by it.
    subject = models.CharField(max_length=50, blank=True, db_index=True)
    target = models.CharField(max_length=10, choices=Target.choices)
    # What is sent: the event's data (webhook) or the whole message (Slack).
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    # Set by each claim; a claim older than the lease belonged to a worker that died.
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["sent_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event} to {self.target}"
