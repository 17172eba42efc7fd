"""The comments app's models, one module per concern; import them from here."""

from comments.models.background import AkismetFeedback, FeedState, Notification, SpamModelVersion
from comments.models.moderation import (
    Ban,
    Flag,
    ModerationDay,
    ModerationEvent,
    ModerationLinkUse,
    ModerationQueue,
    ModerationWord,
)
from comments.models.threads import REQUIRED, SUMMARY_MAX, Article, Comment

__all__ = [
    "REQUIRED",
    "SUMMARY_MAX",
    "AkismetFeedback",
    "Article",
    "Ban",
    "Comment",
    "FeedState",
    "Flag",
    "ModerationDay",
    "ModerationEvent",
    "ModerationLinkUse",
    "ModerationQueue",
    "ModerationWord",
    "Notification",
    "SpamModelVersion",
]
