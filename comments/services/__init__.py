"""Every write of the comments capability: views, APIs, admin, tasks and other apps call
these (import them from here; the modules below are how the work is split)."""

from comments.services.authoring import (
    EDITABLE_FIELDS,
    comment_author_delete,
    comment_author_edit,
    comment_edit_deadline,
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
from comments.services.moderation import (
    BATCH_WINDOW,
    comment_moderate,
    comment_purge_spam,
    comment_requeue_unchecked,
)
from comments.services.notifications import (
    NOTIFICATION_LEASE,
    comment_notifications_stop,
    notification_requeue_unsent,
    notification_send,
)
from comments.services.personal_data import (
    ANONYMOUS_AUTHOR,
    comments_anonymise,
    comments_request_data_clear,
    reply_notifications_delete,
)
from comments.services.submission import (
    article_upsert,
    comment_body_normalise,
    comment_create,
    comment_import,
    comment_submit,
)
from comments.services.transitions import Actor

__all__ = [
    "ANONYMOUS_AUTHOR",
    "BATCH_WINDOW",
    "EDITABLE_FIELDS",
    "MODERATOR_ACTIONS",
    "NOTIFICATION_LEASE",
    "Actor",
    "CommentError",
    "CommentFlood",
    "CommentsClosed",
    "DuplicateComment",
    "EditNotAllowed",
    "EditTooLate",
    "InvalidTransition",
    "akismet_feedback_queue",
    "akismet_feedback_requeue",
    "akismet_feedback_send",
    "article_upsert",
    "comment_approve",
    "comment_author_delete",
    "comment_author_edit",
    "comment_body_normalise",
    "comment_create",
    "comment_decision_recorded",
    "comment_edit_deadline",
    "comment_event_approved",
    "comment_event_held",
    "comment_event_reported",
    "comment_import",
    "comment_mark_ham",
    "comment_mark_spam",
    "comment_moderate",
    "comment_moderator_action",
    "comment_notifications_stop",
    "comment_purge_spam",
    "comment_requeue_unchecked",
    "comment_restore",
    "comment_submit",
    "comment_trash",
    "comments_anonymise",
    "comments_request_data_clear",
    "notification_requeue_unsent",
    "notification_send",
    "reply_notifications_delete",
]
