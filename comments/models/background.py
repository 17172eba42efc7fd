"""What background tasks keep: emails and Akismet feedback owed, spam filters, feed polls."""

from django.db import models
from django.utils import timezone

from comments.models.threads import Comment


class Notification(models.Model):
    """An email owed because of a comment; the sending task claims it so it goes out once."""

    class Kind(models.TextChoices):
        MODERATORS = "moderators", "Held comment, to moderators"
        REPLY = "reply", "Reply, to the parent's author"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    # Set by each claim; a claim older than the lease may be taken over (worker died).
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "kind"], name="one_notification_per_kind")
        ]
        indexes = [models.Index(fields=["sent_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for comment {self.comment_id}"


class AkismetFeedback(models.Model):
    """A moderator's decision Akismet is owed (submit-spam or submit-ham).

    Written with the decision; the task marks it sent. A row the task never took (the
    broker was down) or gave up on is queued again by the sweep.
    """

    class Kind(models.TextChoices):
        SPAM = "spam", "submit-spam"
        HAM = "ham", "submit-ham"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    attempted_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "Akismet feedback"
        indexes = [models.Index(fields=["sent_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for comment {self.comment_id}"


class SpamModelVersion(models.Model):
    """One trained spam classifier: its parameters, what it learnt from and how it scored.

    ``parameters`` holds ``comments.spam.SpamModel.to_bytes()`` (numpy arrays loaded with
    pickling disabled). ``training_rows`` keeps the rows that came from files (gzip JSON),
    so that retraining on moderators' decisions keeps the files' prior without the files.
    """

    version = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=100, blank=True, help_text="Command or task.")
    trained_on = models.JSONField(default=dict)
    evaluation = models.JSONField(default=dict)
    parameters = models.BinaryField()
    training_rows = models.BinaryField(blank=True, default=b"")
    is_current = models.BooleanField(default=False)

    class Meta:
        ordering = ["-version"]
        verbose_name = "spam filter version"
        permissions = [("retrain_spam_filter", "Can retrain the spam filter")]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=models.Q(is_current=True),
                name="one_current_spam_model",
            )
        ]

    def __str__(self) -> str:
        return f"spam filter v{self.version}" + (" (current)" if self.is_current else "")


class FeedState(models.Model):
    """What the last poll of one feed URL learnt: the validators for a conditional GET."""

    url = models.CharField("feed URL", max_length=500, unique=True)
    # Sent back as If-None-Match and If-Modified-Since, exactly as the server gave them.
    etag = models.CharField("ETag", max_length=500, blank=True)
    modified = models.CharField("Last-Modified", max_length=100, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["url"]

    def __str__(self) -> str:
        return self.url
