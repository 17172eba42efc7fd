"""Moderation: what moderators decide with, and the record of what was decided.

The decision log, the queue, the dashboard's days, block words, readers' reports, bans and
the one-use links of held-comment emails.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from comments.models.threads import Comment
from reex.validators import validate_no_control_characters


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
