"""What Celery beat sends, and how often: the periodic tasks of every app, in one place."""

from reex.conf.product import (
    REEX_FEED_POLL_MINUTES,
    REEX_FEED_URLS,
    REEX_SUBSCRIPTIONS_SWEEP_SECONDS,
)

CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}

# --- comments ---------------------------------------------------------------------

# Comments left unmoderated (broker down) are queued again; notifications likewise.
CELERY_BEAT_SCHEDULE["comments-requeue-unchecked"] = {
    "task": "comments.tasks.requeue_unchecked_comments",
    "schedule": 60.0,
    # A sweep not run by its next turn is dropped, so they don't pile up while workers are down.
    "options": {"expires": 60.0},
}
CELERY_BEAT_SCHEDULE["comments-requeue-unsent-notifications"] = {
    "task": "comments.tasks.requeue_unsent_notifications",
    "schedule": 300.0,
    # A sweep not run by its next turn is dropped, so they don't pile up while workers are down.
    "options": {"expires": 300.0},
}
CELERY_BEAT_SCHEDULE["comments-purge-spam"] = {
    "task": "comments.tasks.purge_spam_comments",
    "schedule": 3600.0,
    # A sweep not run by its next turn is dropped, so they don't pile up while workers are down.
    "options": {"expires": 3600.0},
}
CELERY_BEAT_SCHEDULE["comments-spam-retrain"] = {
    "task": "comments.tasks.retrain_spam_filter",
    "schedule": 3600.0,
    "options": {"queue": "bulk", "expires": 3600.0},
}
# The moderators' dashboard reads a daily summary, refreshed this often.
CELERY_BEAT_SCHEDULE["comments-moderation-summary"] = {
    "task": "comments.tasks.refresh_moderation_summary",
    "schedule": 300.0,
    "options": {"queue": "bulk", "expires": 300.0},
}
if REEX_FEED_URLS:
    CELERY_BEAT_SCHEDULE["comments-poll-feeds"] = {
        "task": "comments.tasks.poll_feeds",
        "schedule": REEX_FEED_POLL_MINUTES * 60.0,
        "options": {"queue": "bulk", "expires": REEX_FEED_POLL_MINUTES * 60.0},
    }

# --- subscriptions and newsletters -----------------------------------------------

CELERY_BEAT_SCHEDULE["subscriptions-requeue"] = {
    "task": "subscriptions.tasks.requeue_deliveries",
    "schedule": float(REEX_SUBSCRIPTIONS_SWEEP_SECONDS),
    "options": {"queue": "email", "expires": float(REEX_SUBSCRIPTIONS_SWEEP_SECONDS)},
}
CELERY_BEAT_SCHEDULE["subscriptions-purge-pending"] = {
    "task": "subscriptions.tasks.purge_pending",
    "schedule": 3600.0,
    "options": {"queue": "bulk", "expires": 3600.0},
}
CELERY_BEAT_SCHEDULE["subscriptions-editions-due"] = {
    "task": "subscriptions.tasks.editions_due",
    "schedule": 60.0,
    "options": {"queue": "bulk", "expires": 60.0},
}
CELERY_BEAT_SCHEDULE["newsletter-requeue-editions"] = {
    "task": "subscriptions.tasks.requeue_editions",
    "schedule": 60.0,
    "options": {"queue": "bulk", "expires": 60.0},
}

# --- privacy and integrations ----------------------------------------------------

CELERY_BEAT_SCHEDULE["privacy-anonymise-ips"] = {
    "task": "privacy.tasks.anonymise_old_ips",
    "schedule": 3600.0,
    "options": {"queue": "bulk", "expires": 3600.0},
}
CELERY_BEAT_SCHEDULE["webhooks-requeue"] = {
    "task": "reex.tasks.requeue_webhooks",
    "schedule": 60.0,
    "options": {"queue": "email", "expires": 60.0},
}
CELERY_BEAT_SCHEDULE["comments-requeue-akismet-feedback"] = {
    "task": "comments.tasks.requeue_akismet_feedback",
    "schedule": 300.0,
    "options": {"queue": "moderation", "expires": 300.0},
}
