from django.conf import settings
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.db import models
from django.utils import timezone

from reex.validators import (
    HttpUrlValidator,
    validate_no_control_characters,
    validate_single_line,
)

# Longest article summary kept (characters): a few sentences, not the post.
SUMMARY_MAX = 1000
REQUIRED = {"blank": "This field is required.", "null": "This field is required."}


class Article(models.Model):
    """A post on the site that readers comment under, keyed by its post ID or slug."""

    key = models.SlugField(
        max_length=200,
        unique=True,
        help_text="The WordPress post ID (as the feed gives it) or the post's slug.",
    )
    title = models.CharField(max_length=300)
    url = models.URLField(max_length=500, blank=True)
    # Plain text, a few sentences: the feed's excerpt, or what the API or admin set.
    summary = models.TextField(
        blank=True, validators=[MaxLengthValidator(SUMMARY_MAX), validate_no_control_characters]
    )
    image_url = models.CharField(
        "image URL",
        max_length=500,
        blank=True,
        validators=[validate_single_line, HttpUrlValidator()],
    )
    author = models.CharField(max_length=200, blank=True, validators=[validate_single_line])
    published_at = models.DateTimeField(default=timezone.now)
    comments_open = models.BooleanField(default=True)
    # Created by a reader's first comment from the embed: the title is a guess from the URL
    # until the site's feed, the API or a moderator sets the real one.
    title_wanted = models.BooleanField(
        default=False, help_text="The title was guessed from the URL; the real one is wanted."
    )
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
    # A moderator approved it after readers reported it: later reports no longer hide it.
    reports_cleared_at = models.DateTimeField(null=True, blank=True)
    # SHA-256 of the secret in the author's edit token (comments.tokens); never the token.
    edit_key_hash = models.CharField(max_length=64, blank=True, editable=False)

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

    # Set on the instance comment_create returns (the author's edit token); never stored.
    edit_token = ""

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
        # The dashboard's summary reads a day of events at a time.
        indexes = [models.Index(fields=["created_at"], name="moderation_event_created")]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status} by {self.actor_label}"

    @property
    def actor_label(self) -> str:
        if self.actor_id is not None and self.actor is not None:
            return self.actor.get_username()
        return self.rule or "system"


class ModerationQueue(Comment):
    """The moderators' queue page in admin: comments, seen as queues to clear."""

    class Meta:
        proxy = True
        verbose_name = "moderation queue"
        verbose_name_plural = "moderation queue"


class ModerationDay(models.Model):
    """One day of moderation, summed up for the dashboard (refreshed, never edited).

    Comments are counted by the day they arrived, with the status they hold now; decisions,
    reversals and moderators' actions by the day they happened. Times are in seconds.
    """

    day = models.DateField(unique=True)
    # {status: count} of the comments that arrived this day.
    outcomes = models.JSONField(default=dict)
    # First decisions out of pending this day: how many, and how long after submission.
    decided = models.PositiveIntegerField(default=0)
    decision_p50 = models.FloatField(null=True)
    decision_p95 = models.FloatField(null=True)
    # The same for comments a moderator decided (held by the checks, or reported).
    decided_by_moderators = models.PositiveIntegerField(default=0)
    moderator_p50 = models.FloatField(null=True)
    moderator_p95 = models.FloatField(null=True)
    # Verdicts of the checks this day, and moderators' first decisions that reversed one.
    checked = models.PositiveIntegerField(default=0)
    reversed_spam = models.PositiveIntegerField(default=0, help_text="Spam, approved.")
    reversed_approved = models.PositiveIntegerField(default=0, help_text="Approved, spam.")
    # {user id: {action: count}} of the moderators' actions this day.
    actions = models.JSONField(default=dict)
    # Held comments when the day was last refreshed (the day's last value once it is over).
    queue_size = models.PositiveIntegerField(null=True)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day"]
        verbose_name = "moderation dashboard"
        verbose_name_plural = "moderation dashboard"

    def __str__(self) -> str:
        return str(self.day)


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


class Flag(models.Model):
    """A reader's report of a published comment; one per comment and reader.

    ``reporter`` is a keyed hash of the reader (IP and user agent, or the embed's
    anonymous reader id) and ``source`` one of the network they wrote from: no address
    is stored, and only reports from different sources count towards hiding a comment.
    """

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        OFFENSIVE = "offensive", "Offensive"
        ABUSIVE = "abusive", "Abusive"
        OFF_TOPIC = "off-topic", "Off-topic"
        OTHER = "other", "Other"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="flags")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    detail = models.CharField(
        max_length=500, blank=True, validators=[validate_no_control_characters]
    )
    reporter = models.CharField(max_length=64)
    source = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when a moderator approves the comment after the report.
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["comment", "reporter"], name="one_flag_per_reader")
        ]
        indexes = [
            # The reported queue: open reports, newest first.
            models.Index(
                fields=["created_at"], condition=models.Q(cleared_at=None), name="flag_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} on comment {self.comment_id}"


class Ban(models.Model):
    """An email address, an IP address or a network whose comments go straight to spam."""

    email = models.EmailField(max_length=254, blank=True)
    # An address is stored as its one-address network ("192.0.2.1/32").
    network = models.CharField("IP address or network", max_length=50, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Null: for good.
    expires_at = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(email="") & ~models.Q(network=""))
                | (~models.Q(email="") & models.Q(network="")),
                name="ban_email_or_network",
            )
        ]
        indexes = [models.Index(fields=["lifted_at", "expires_at"])]

    def __str__(self) -> str:
        return f"Ban of {self.target}"

    @property
    def target(self) -> str:
        if self.email:
            return self.email
        return self.network.removesuffix("/32").removesuffix("/128")


class ModerationLinkUse(models.Model):
    """A used moderation link from a held-comment email: each link acts once."""

    nonce = models.CharField(max_length=32, unique=True)
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=10)
    used_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.action} of comment {self.comment_id} by {self.user_id}"
