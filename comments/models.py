from django.conf import settings
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.db import models
from django.utils import timezone

from reex.validators import (
    HttpUrlValidator,
    validate_no_control_characters,
    validate_single_line,
)

REQUIRED = {"blank": "This field is required.", "null": "This field is required."}


class Article(models.Model):
    """A post on the site that readers comment under, keyed by the site's own slug."""

    key = models.SlugField(max_length=200, unique=True, help_text="The site's post slug.")
    title = models.CharField(max_length=300)
    url = models.URLField(max_length=500, blank=True)
    published_at = models.DateTimeField(default=timezone.now)
    comments_open = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_at"]
        # The admin's filter offers the newest articles: read along this, not sorted.
        indexes = [models.Index(fields=["published_at", "id"], name="article_published_id")]

    def __str__(self) -> str:
        return self.title or self.key


class Comment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        SPAM = "spam", "Spam"
        TRASH = "trash", "Trash"

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        PINGBACK = "pingback", "Pingback"
        TRACKBACK = "trackback", "Trackback"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="comments")
    # Purging a spam parent must not take approved replies with it: they move up a level.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    # The top comment of the thread (null for a top comment itself).
    root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    depth = models.PositiveSmallIntegerField(default=0)

    author_name = models.CharField(
        max_length=100, error_messages=REQUIRED, validators=[validate_single_line]
    )
    author_email = models.EmailField(
        max_length=254, error_messages=REQUIRED, validators=[validate_single_line]
    )
    author_url = models.CharField(
        "website",
        max_length=200,
        blank=True,
        validators=[validate_single_line, HttpUrlValidator()],
    )
    # The raw text as submitted (trimmed): kept for moderators, never rendered as HTML.
    body = models.TextField(
        error_messages=REQUIRED,
        validators=[
            MinLengthValidator(2),
            MaxLengthValidator(5000),
            validate_no_control_characters,
        ],
    )
    # Set once by comments.sanitize, in the moderation task (or a moderator's decision).
    body_html = models.TextField(blank=True, editable=False)
    notify_replies = models.BooleanField(default=False)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    status_before_trash = models.CharField(max_length=10, choices=Status.choices, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    spam_score = models.FloatField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    # Set by the claim that starts moderation; null means not yet checked.
    checked_at = models.DateTimeField(null=True, blank=True)

    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    # The page the form was sent from (HTTP Referer): Akismet weighs it.
    referrer = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # Pingbacks and trackbacks come only from imports; REEX_SHOW_PINGBACKS shows them.
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COMMENT)
    # Where an imported comment came from (e.g. "wordpress:https://site/") and its id
    # there: a re-run finds it and adds nothing. The parent's id there links the thread.
    import_source = models.CharField(max_length=200, blank=True)
    import_id = models.CharField(max_length=100, blank=True)
    import_parent_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        permissions = [("moderate_comment", "Can moderate comments")]
        constraints = [
            models.UniqueConstraint(
                fields=["import_source", "import_id"],
                condition=~models.Q(import_id=""),
                name="unique_comment_import_id",
            )
        ]
        indexes = [
            models.Index(fields=["article", "status", "created_at"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["author_email", "created_at"]),
            models.Index(fields=["ip_address", "created_at"]),
            # The moderation queue unfiltered, newest first (read backwards).
            models.Index(fields=["created_at", "id"], name="comment_created_id"),
            # What moderation tasks and the sweep claim: a few rows, whatever the table holds.
            models.Index(
                fields=["created_at", "id"],
                condition=models.Q(status="pending", checked_at=None),
                name="comment_unchecked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author_name} on {self.article_id}: {self.excerpt}"

    @property
    def excerpt(self) -> str:
        text = " ".join(self.body.split())
        return text if len(text) <= 80 else text[:79] + "…"


class ModerationEvent(models.Model):
    """One change of a comment's status: who or which rule decided, from, to and why."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # The rule or check that decided when no user did (e.g. "block_words").
    rule = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=20, blank=True)
    from_status = models.CharField(max_length=10, choices=Comment.Status.choices)
    to_status = models.CharField(max_length=10, choices=Comment.Status.choices)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status} by {self.actor_label}"

    @property
    def actor_label(self) -> str:
        if self.actor_id is not None and self.actor is not None:
            return self.actor.get_username()
        return self.rule or "system"


class ModerationWord(models.Model):
    """A word or phrase that sends a matching comment to spam (block) or to a human (hold)."""

    class Action(models.TextChoices):
        BLOCK = "block", "Block (mark spam)"
        HOLD = "hold", "Hold for moderation"

    phrase = models.CharField(
        max_length=200,
        help_text="Matched case-insensitively inside the name, email, website, body and IP.",
    )
    action = models.CharField(max_length=5, choices=Action.choices)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["action", "phrase"]
        constraints = [
            models.UniqueConstraint(fields=["phrase", "action"], name="unique_moderation_word")
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.phrase}"


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
