"""Every write of the comments capability: views, APIs, admin, tasks and other apps call
these (import them from here; the modules below are how the work is split)."""

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
    InvalidTransition,
)
from comments.services.importing import (
    ArticleRef,
    ImportedBatch,
    ThreadLinks,
    article_import,
    comments_import,
    comments_import_link_threads,
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
    "MODERATOR_ACTIONS",
    "NOTIFICATION_LEASE",
    "Actor",
    "ArticleRef",
    "CommentError",
    "CommentFlood",
    "CommentsClosed",
    "DuplicateComment",
    "ImportedBatch",
    "InvalidTransition",
    "ThreadLinks",
    "article_import",
    "article_upsert",
    "comment_approve",
    "comment_body_normalise",
    "comment_create",
    "comment_decision_recorded",
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
    "comments_import",
    "comments_import_link_threads",
    "comments_request_data_clear",
    "notification_requeue_unsent",
    "notification_send",
    "reply_notifications_delete",
]
