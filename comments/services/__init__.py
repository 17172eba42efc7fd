"""Every write of the comments capability: views, APIs, admin, tasks and other apps call
these (import them from here; the modules below are how the work is split)."""

from comments.services.articles import (
    FeedPollReport,
    FeedReport,
    article_feed_upsert,
    feed_poll,
    feeds_poll,
)
from comments.services.authoring import (
    EDITABLE_FIELDS,
    comment_author_delete,
    comment_author_edit,
    comment_edit_deadline,
)
from comments.services.bans import (
    ban_comment_author,
    ban_create,
    ban_lift,
    ban_network_clean,
    ban_target_clean,
    ban_update,
)
from comments.services.decisions import (
    MODERATOR_ACTIONS,
    comment_approve,
    comment_decision_recorded,
    comment_mark_ham,
    comment_mark_spam,
    comment_moderator_action,
    comment_restore,
    comment_trash,
)
from comments.services.errors import (
    CommentError,
    CommentFlood,
    CommentsClosed,
    DuplicateComment,
    EditNotAllowed,
    EditTooLate,
    InvalidTransition,
)
from comments.services.events import (
    comment_event_approved,
    comment_event_held,
    comment_event_reported,
)
from comments.services.feedback import (
    akismet_feedback_queue,
    akismet_feedback_requeue,
    akismet_feedback_send,
)
from comments.services.flags import (
    REPORTED_RULE,
    flag_create,
    flags_clear,
)
from comments.services.importing import (
    ArticleRef,
    ImportedBatch,
    ThreadLinks,
    article_import,
    comments_import,
    comments_import_link_threads,
)
from comments.services.links import (
    AlreadyDecided,
    LinkNotAllowed,
    LinkUsed,
    moderation_link_check,
    moderation_link_use,
)
from comments.services.moderation import (
    BATCH_WINDOW,
    comment_moderate,
    comment_moderate_woken,
    comment_purge_spam,
    comment_requeue_unchecked,
    comments_moderate_recent,
)
from comments.services.notifications import (
    NOTIFICATION_LEASE,
    comment_notifications_stop,
    notification_requeue_unsent,
    notification_send,
    notification_send_woken,
)
from comments.services.personal_data import (
    ANONYMOUS_AUTHOR,
    comments_anonymise,
    comments_request_data_clear,
    reply_notifications_delete,
)
from comments.services.site_articles import (
    article_get_or_create_for_comment,
    article_title_wanted,
)
from comments.services.submission import (
    article_upsert,
    comment_body_normalise,
    comment_create,
    comment_import,
    comment_submit,
)
from comments.services.summary import (
    moderation_day_refresh,
    moderation_days_refresh,
    moderation_summary_refresh,
)
from comments.services.transitions import (
    Actor,
)
from comments.services.undo import (
    comment_decision_undo,
)

__all__ = [
    "ANONYMOUS_AUTHOR",
    "BATCH_WINDOW",
    "EDITABLE_FIELDS",
    "MODERATOR_ACTIONS",
    "NOTIFICATION_LEASE",
    "REPORTED_RULE",
    "Actor",
    "AlreadyDecided",
    "ArticleRef",
    "CommentError",
    "CommentFlood",
    "CommentsClosed",
    "DuplicateComment",
    "EditNotAllowed",
    "EditTooLate",
    "FeedPollReport",
    "FeedReport",
    "ImportedBatch",
    "InvalidTransition",
    "LinkNotAllowed",
    "LinkUsed",
    "ThreadLinks",
    "akismet_feedback_queue",
    "akismet_feedback_requeue",
    "akismet_feedback_send",
    "article_feed_upsert",
    "article_get_or_create_for_comment",
    "article_import",
    "article_title_wanted",
    "article_upsert",
    "ban_comment_author",
    "ban_create",
    "ban_lift",
    "ban_network_clean",
    "ban_target_clean",
    "ban_update",
    "comment_approve",
    "comment_author_delete",
    "comment_author_edit",
    "comment_body_normalise",
    "comment_create",
    "comment_decision_recorded",
    "comment_decision_undo",
    "comment_edit_deadline",
    "comment_event_approved",
    "comment_event_held",
    "comment_event_reported",
    "comment_import",
    "comment_mark_ham",
    "comment_mark_spam",
    "comment_moderate",
    "comment_moderate_woken",
    "comment_moderator_action",
    "comment_notifications_stop",
    "comment_purge_spam",
    "comment_requeue_unchecked",
    "comment_restore",
    "comment_submit",
    "comment_trash",
    "comments_anonymise",
    "comments_import",
    "comments_import_link_threads",
    "comments_moderate_recent",
    "comments_request_data_clear",
    "feed_poll",
    "feeds_poll",
    "flag_create",
    "flags_clear",
    "moderation_day_refresh",
    "moderation_days_refresh",
    "moderation_link_check",
    "moderation_link_use",
    "moderation_summary_refresh",
    "notification_requeue_unsent",
    "notification_send",
    "notification_send_woken",
    "reply_notifications_delete",
]
