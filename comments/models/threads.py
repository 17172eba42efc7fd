"""Articles and the comments under them."""

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
