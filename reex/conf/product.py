"""reex's own settings (REEX_*): comments, moderation, spam, feeds, newsletters, privacy.

The periodic tasks that use them are scheduled in ``reex/conf/beat.py``.
"""

from datetime import time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

from reex.conf.auth import TIME_ZONE
from reex.conf.core import SECRET_KEY, env

# --- comments ---------------------------------------------------------------------

REEX_COMMENT_FLOOD_SECONDS = env.int("REEX_COMMENT_FLOOD_SECONDS", default=15)
REEX_MODERATION_MODE = env.str("REEX_MODERATION_MODE", default="auto")
if REEX_MODERATION_MODE not in ("auto", "first", "all"):
    raise ImproperlyConfigured("REEX_MODERATION_MODE must be auto, first or all.")
REEX_MAX_LINKS = env.int("REEX_MAX_LINKS", default=2)
REEX_CLOSE_COMMENTS_AFTER_DAYS = env.int("REEX_CLOSE_COMMENTS_AFTER_DAYS", default=0)
REEX_MAX_REPLY_DEPTH = env.int("REEX_MAX_REPLY_DEPTH", default=5)
# Moderation signals: reports from this many readers hide a comment until a moderator
# decides; held-comment emails' action links expire after these hours.
REEX_FLAGS_TO_HOLD = max(1, env.int("REEX_FLAGS_TO_HOLD", default=3))
REEX_MODERATION_LINK_HOURS = env.int("REEX_MODERATION_LINK_HOURS", default=72)
# Imported pingbacks and trackbacks stay hidden from readers unless this is on.
REEX_SHOW_PINGBACKS = env.bool("REEX_SHOW_PINGBACKS", default=False)
# A moderation task decides up to this many unchecked comments in one transaction (its
# own first): more amortises better, fewer decides the task's own comment sooner.
REEX_MODERATION_BATCH = max(1, env.int("REEX_MODERATION_BATCH", default=20))
# A request wakes the workers at most once per this many seconds (0: a task per comment);
# the woken task takes every comment saved meanwhile (reex/wakeup.py).
REEX_WAKE_SECONDS = max(0.0, env.float("REEX_WAKE_SECONDS", default=0.1))
REEX_SPAM_RETENTION_DAYS = env.int("REEX_SPAM_RETENTION_DAYS", default=15)
# A form filled faster than this, or older than the max age, is refused.
REEX_FORM_MIN_SECONDS = env.int("REEX_FORM_MIN_SECONDS", default=3)
REEX_FORM_MAX_AGE_SECONDS = env.int("REEX_FORM_MAX_AGE_SECONDS", default=7200)
# Spam classifier: a score at or above the first is spam, at or above the second held.
# Defaults from leave-one-file-out evaluation (docs/spam-filter.md).
REEX_SPAM_THRESHOLD = env.float("REEX_SPAM_THRESHOLD", default=0.97)
REEX_HOLD_THRESHOLD = env.float("REEX_HOLD_THRESHOLD", default=0.2)
if not 0 <= REEX_HOLD_THRESHOLD <= REEX_SPAM_THRESHOLD <= 1:
    raise ImproperlyConfigured("Need 0 <= REEX_HOLD_THRESHOLD <= REEX_SPAM_THRESHOLD <= 1.")
# Retrain once this many moderator decisions accumulated since the current version.
REEX_SPAM_RETRAIN_AFTER = env.int("REEX_SPAM_RETRAIN_AFTER", default=50)
# How long a worker trusts its loaded model before asking which version is current.
REEX_SPAM_MODEL_CHECK_SECONDS = env.float("REEX_SPAM_MODEL_CHECK_SECONDS", default=5.0)
# Akismet is asked only when both are set. The API URL is for tests and proxies.
AKISMET_API_KEY = env.str("AKISMET_API_KEY", default="")
AKISMET_SITE_URL = env.str("AKISMET_SITE_URL", default="")
AKISMET_API_URL = env.str("AKISMET_API_URL", default="https://rest.akismet.com")
AKISMET_TIMEOUT_SECONDS = env.float("AKISMET_TIMEOUT_SECONDS", default=5.0)

# --- feeds: the site's RSS or Atom feeds, polled into articles ---------------------

REEX_FEED_URLS = [url.strip() for url in env.list("REEX_FEED_URLS", default=[]) if url.strip()]
if any(urlsplit(url).scheme not in ("http", "https") for url in REEX_FEED_URLS):
    raise ImproperlyConfigured("REEX_FEED_URLS must be http:// or https:// addresses.")
REEX_FEED_POLL_MINUTES = max(1, env.int("REEX_FEED_POLL_MINUTES", default=10))
# A fetch slower than this (in all) or larger than this is abandoned until the next poll.
REEX_FEED_TIMEOUT_SECONDS = env.float("REEX_FEED_TIMEOUT_SECONDS", default=15.0)
REEX_FEED_MAX_BYTES = env.int("REEX_FEED_MAX_BYTES", default=10 * 1024 * 1024)

# --- subscriptions ----------------------------------------------------------------

REEX_CONFIRMATION_COOLDOWN_SECONDS = env.int("REEX_CONFIRMATION_COOLDOWN_SECONDS", default=600)
REEX_CONFIRMATION_MAX_AGE_HOURS = env.int("REEX_CONFIRMATION_MAX_AGE_HOURS", default=72)
REEX_SOFT_BOUNCE_LIMIT = env.int("REEX_SOFT_BOUNCE_LIMIT", default=3)
REEX_PENDING_PURGE_DAYS = env.int("REEX_PENDING_PURGE_DAYS", default=7)
# How often beat re-queues mail whose task was lost (broker down, retries exhausted).
REEX_SUBSCRIPTIONS_SWEEP_SECONDS = env.int("REEX_SUBSCRIPTIONS_SWEEP_SECONDS", default=60)

# --- newsletter editions (docs/newsletter.md) ---------------------------------------


def _clock_time(value: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise ImproperlyConfigured("REEX_NEWSLETTER_TIME must be HH:MM, e.g. 07:00.") from None


# A new list's send time, in its own time zone (TIME_ZONE unless set per list).
REEX_NEWSLETTER_TIME = _clock_time(env.str("REEX_NEWSLETTER_TIME", default="07:00"))
# A new list's time zone (an IANA name); each list can have its own.
REEX_NEWSLETTER_TIME_ZONE = env.str("REEX_NEWSLETTER_TIME_ZONE", default=TIME_ZONE)
try:
    ZoneInfo(REEX_NEWSLETTER_TIME_ZONE)
except (ValueError, ZoneInfoNotFoundError):
    raise ImproperlyConfigured(
        "REEX_NEWSLETTER_TIME_ZONE must be a zone like Europe/Paris."
    ) from None
# An edition not started this long after its time is marked missed, never sent late.
REEX_NEWSLETTER_MAX_DELAY_HOURS = env.float("REEX_NEWSLETTER_MAX_DELAY_HOURS", default=3.0)
# Added to List-Unsubscribe next to the one-click URL when set, e.g. unsubscribe@example.org.
REEX_NEWSLETTER_UNSUBSCRIBE_MAILTO = env.str("REEX_NEWSLETTER_UNSUBSCRIBE_MAILTO", default="")

# --- newsletter sending (docs/newsletter.md) ----------------------------------------
# Which server or provider sends: EMAIL_URL and EMAIL_PROVIDER, in reex/conf/email.py.

# Messages per second for the whole site, all workers together (kept in Redis); 0: no limit.
REEX_SEND_RATE = env.float("REEX_SEND_RATE", default=0.0)
# SMTP failures in a row, any worker, after which an edition pauses and staff are told.
REEX_SEND_MAX_ERRORS = max(1, env.int("REEX_SEND_MAX_ERRORS", default=10))
# Deliveries one task claims and sends over one connection (one provider API call).
REEX_SEND_BATCH = max(1, env.int("REEX_SEND_BATCH", default=500))
# A claim not renewed for this long belongs to a dead worker: its deliveries go back.
REEX_SEND_LEASE_SECONDS = max(5, env.int("REEX_SEND_LEASE_SECONDS", default=300))

# --- privacy ----------------------------------------------------------------------

# Comments' IP addresses, user agents and referrers are cleared this many days after
# posting; 0 keeps them. The consent log keeps its own: they are the proof of consent.
REEX_IP_RETENTION_DAYS = env.int("REEX_IP_RETENTION_DAYS", default=30)
# Keys the hash that replaces an erased address; set it so a SECRET_KEY rotation does not
# forget which erased addresses bounced.
REEX_PRIVACY_HASH_KEY = env.str("REEX_PRIVACY_HASH_KEY", default=SECRET_KEY)

# --- integrations: feeds, webhooks, the author's edit window ------------------------

# Outbound events, signed with the secret (docs/integrations.md); unset: none are sent.
REEX_WEBHOOK_URL = env.str("REEX_WEBHOOK_URL", default="")
REEX_WEBHOOK_SECRET = env.str("REEX_WEBHOOK_SECRET", default="")
if REEX_WEBHOOK_URL and not REEX_WEBHOOK_SECRET:
    raise ImproperlyConfigured("REEX_WEBHOOK_URL needs REEX_WEBHOOK_SECRET to sign events.")
REEX_SLACK_WEBHOOK_URL = env.str("REEX_SLACK_WEBHOOK_URL", default="")
REEX_WEBHOOK_TIMEOUT_SECONDS = env.float("REEX_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# How long a new comment's author may still edit or delete it (0: never).
REEX_EDIT_WINDOW_MINUTES = env.int("REEX_EDIT_WINDOW_MINUTES", default=15)
