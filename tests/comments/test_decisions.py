import pytest

from comments import services
from comments.models import Comment, ModerationEvent, Notification
from comments.services import (
    InvalidTransition,
    comment_approve,
    comment_mark_ham,
    comment_mark_spam,
    comment_moderate,
    comment_restore,
    comment_trash,
)
from tests.comments.factories import ApprovedCommentFactory, CommentFactory

pytestmark = pytest.mark.django_db
Status = Comment.Status


def test_approve_publishes_and_audits_the_moderator(no_delay, moderator):
    comment = comment_approve(comment=CommentFactory.create(), actor=moderator)
    event = ModerationEvent.objects.get(comment=comment)
    assert comment.status == Status.APPROVED
    assert (event.actor, event.action, event.from_status, event.to_status) == (
        moderator,
        "approve",
        "pending",
        "approved",
    )


def test_approving_before_the_task_ran_sanitises_in_the_same_step(no_delay, moderator):
    comment = comment_approve(
        comment=CommentFactory.create(body="<script>x</script>ok"), actor=moderator
    )
    comment.refresh_from_db()
    assert comment.body_html.startswith("<p>&lt;script&gt;")
    assert comment.checked_at is not None
    assert comment_moderate(comment_id=comment.pk) is None
    assert Comment.objects.get(pk=comment.pk).status == Status.APPROVED


def test_spam_marks_spam(no_delay, moderator):
    comment = comment_mark_spam(comment=ApprovedCommentFactory.create(), actor=moderator)
    assert Comment.objects.get(pk=comment.pk).status == Status.SPAM


def test_ham_publishes_a_spam_comment(no_delay, moderator):
    comment = comment_mark_ham(comment=CommentFactory.create(status=Status.SPAM), actor=moderator)
    assert Comment.objects.get(pk=comment.pk).status == Status.APPROVED
    assert comment.events.get().action == "ham"


def test_trash_remembers_the_status_and_restore_returns_to_it(no_delay, moderator):
    comment = comment_trash(comment=CommentFactory.create(status=Status.SPAM), actor=moderator)
    assert (comment.status, comment.status_before_trash) == (Status.TRASH, Status.SPAM)
    comment = comment_restore(comment=comment, actor=moderator)
    comment.refresh_from_db()
    assert (comment.status, comment.status_before_trash) == (Status.SPAM, "")
    assert [e.action for e in comment.events.all()] == ["trash", "restore"]


def test_trashing_twice_keeps_the_original_status(no_delay, moderator):
    comment = comment_trash(comment=ApprovedCommentFactory.create(), actor=moderator)
    comment = comment_trash(comment=comment, actor=moderator)
    assert comment.status_before_trash == Status.APPROVED


def test_restore_refuses_a_comment_not_in_the_trash(no_delay, moderator):
    with pytest.raises(InvalidTransition):
        comment_restore(comment=ApprovedCommentFactory.create(), actor=moderator)


def test_a_decision_that_changes_nothing_writes_no_event(no_delay, moderator):
    comment = comment_approve(comment=ApprovedCommentFactory.create(), actor=moderator)
    assert not comment.events.exists()


def test_every_decision_reaches_the_hook(no_delay, moderator, mocker):
    hook = mocker.patch("comments.services.decisions.comment_decision_recorded")
    comment = CommentFactory.create()
    for action in ["spam", "ham", "trash", "restore", "approve", "spam"]:
        comment = services.comment_moderator_action(comment=comment, action=action, actor=moderator)
    assert [c.kwargs["event"].action for c in hook.call_args_list] == [
        "spam",
        "ham",
        "trash",
        "restore",
        "spam",
    ]


def test_a_system_decision_records_no_user(no_delay):
    comment = comment_trash(comment=CommentFactory.create(), actor=None)
    assert comment.events.get().actor is None


def test_approving_a_held_reply_notifies_the_parent_author(no_delay, moderator):
    parent = ApprovedCommentFactory.create(notify_replies=True)
    reply = CommentFactory.create(article=parent.article, parent=parent, depth=1)
    comment_approve(comment=reply, actor=moderator)
    assert Notification.objects.get(comment=reply).kind == Notification.Kind.REPLY


def test_approving_a_reply_twice_notifies_once(no_delay, moderator):
    parent = ApprovedCommentFactory.create(notify_replies=True)
    reply = CommentFactory.create(article=parent.article, parent=parent, depth=1)
    comment_approve(comment=reply, actor=moderator)
    comment_trash(comment=reply, actor=moderator)
    comment_restore(comment=reply, actor=moderator)
    assert Notification.objects.filter(comment=reply).count() == 1
