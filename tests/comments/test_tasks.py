import smtplib
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from comments import tasks
from comments.models import Comment, Notification
from comments.services import (
    comment_notifications_stop,
    comment_purge_spam,
    comment_requeue_unchecked,
    notification_requeue_unsent,
    notification_send,
)
from comments.tokens import stop_token_make, stop_token_read
from tests.comments.factories import (
    ApprovedCommentFactory,
    CommentFactory,
    UserFactory,
    make_moderator,
)

pytestmark = pytest.mark.django_db
Status = Comment.Status


def ago(**kwargs) -> object:
    return timezone.now() - timedelta(**kwargs)


def test_the_moderation_task_moderates(no_delay):
    comment = CommentFactory.create()
    tasks.moderate_comment(comment.pk)
    assert Comment.objects.get(pk=comment.pk).status == Status.APPROVED


def test_tasks_name_their_queues():
    queues = {
        name: getattr(tasks, name).queue
        for name in [
            "moderate_comment",
            "send_notification",
            "requeue_unchecked_comments",
            "requeue_unsent_notifications",
            "purge_spam_comments",
        ]
    }
    assert queues == {
        "moderate_comment": "moderation",
        "send_notification": "email",
        "requeue_unchecked_comments": "moderation",
        "requeue_unsent_notifications": "email",
        "purge_spam_comments": "bulk",
    }


def test_the_email_task_retries_smtp_and_connection_errors_with_backoff():
    task: Any = tasks.send_notification
    assert set(task.autoretry_for) == {smtplib.SMTPException, OSError}
    assert task.retry_backoff and task.retry_jitter
    assert task.max_retries >= 20
    assert task.acks_late


def test_beat_runs_the_sweeps_and_the_purge():
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "comments.tasks.requeue_unchecked_comments",
        "comments.tasks.requeue_unsent_notifications",
        "comments.tasks.purge_spam_comments",
    } <= scheduled


def test_the_sweep_requeues_comments_unchecked_for_over_a_minute(mocker):
    delay = mocker.patch("comments.tasks.moderate_comment.delay")
    stuck = CommentFactory.create(created_at=ago(minutes=2))
    CommentFactory.create(created_at=ago(seconds=10))
    CommentFactory.create(created_at=ago(minutes=5), checked_at=timezone.now())
    ApprovedCommentFactory.create(created_at=ago(minutes=5))
    assert comment_requeue_unchecked() == 1
    delay.assert_called_once_with(stuck.pk)


def test_the_sweep_queues_one_task_per_batch_of_stuck_comments(mocker, settings):
    settings.REEX_MODERATION_BATCH = 2
    delay = mocker.patch("comments.tasks.moderate_comment.delay")
    stuck = [CommentFactory.create(created_at=ago(minutes=5 - n)) for n in range(3)]
    assert comment_requeue_unchecked() == 3
    assert [call.args for call in delay.call_args_list] == [(stuck[0].pk,), (stuck[2].pk,)]


def test_the_sweep_stops_at_a_broker_outage_and_leaves_the_rest_for_next_time(mocker, settings):
    settings.REEX_MODERATION_BATCH = 1
    refused = OperationalError("connection refused")
    delay = mocker.patch("comments.tasks.moderate_comment.delay", side_effect=refused)
    for n in range(3):
        CommentFactory.create(created_at=ago(minutes=5 - n))
    assert comment_requeue_unchecked() == 3
    assert delay.call_count == 1
    assert Comment.objects.filter(checked_at=None).count() == 3


def test_the_purge_deletes_spam_older_than_the_retention(settings):
    settings.REEX_SPAM_RETENTION_DAYS = 15
    old = CommentFactory.create(status=Status.SPAM, status_changed_at=ago(days=16))
    recent = CommentFactory.create(status=Status.SPAM, status_changed_at=ago(days=14))
    old_ham = ApprovedCommentFactory.create(status_changed_at=ago(days=100))
    assert comment_purge_spam() == 1
    assert set(Comment.objects.values_list("pk", flat=True)) == {recent.pk, old_ham.pk}
    assert not Comment.objects.filter(pk=old.pk).exists()


def test_the_purge_keeps_approved_replies_of_purged_spam(settings):
    settings.REEX_SPAM_RETENTION_DAYS = 15
    spam = CommentFactory.create(status=Status.SPAM, status_changed_at=ago(days=20))
    reply = ApprovedCommentFactory.create(article=spam.article, parent=spam, depth=1)
    comment_purge_spam()
    reply.refresh_from_db()
    assert reply.parent is None


def test_zero_retention_keeps_spam_forever(settings):
    settings.REEX_SPAM_RETENTION_DAYS = 0
    CommentFactory.create(status=Status.SPAM, status_changed_at=ago(days=1000))
    assert comment_purge_spam() == 0
    assert Comment.objects.count() == 1


# --- notifications --------------------------------------------------------------------


def held(**kwargs) -> Notification:
    comment = CommentFactory.create(checked_at=timezone.now(), reasons=["Held."], **kwargs)
    return Notification.objects.create(comment=comment, kind=Notification.Kind.MODERATORS)


def reply_notification(*, notify: bool = True) -> Notification:
    parent = ApprovedCommentFactory.create(notify_replies=notify, author_email="parent@example.org")
    reply = ApprovedCommentFactory.create(
        article=parent.article, parent=parent, root=parent, depth=1, body="I agree."
    )
    return Notification.objects.create(comment=reply, kind=Notification.Kind.REPLY)


def test_a_held_comment_emails_every_moderator_once_with_an_admin_link(mailoutbox):
    make_moderator(username="m1", email="m1@example.org")
    make_moderator(username="m2", email="m2@example.org")
    UserFactory.create(username="reader", email="reader@example.org")
    notification = held(body="Suspicious text")
    assert notification_send(notification_id=notification.pk)
    # One email each: the action links in each name its moderator.
    assert sorted(m.to[0] for m in mailoutbox) == ["m1@example.org", "m2@example.org"]
    assert all(len(m.to) == 1 for m in mailoutbox)
    for message in mailoutbox:
        assert f"http://testserver/admin/comments/comment/{notification.comment_id}/change/" in (
            message.body
        )
        assert "Suspicious text" in message.body


def test_sending_twice_sends_once(mailoutbox, moderator):
    notification = held()
    assert notification_send(notification_id=notification.pk)
    assert not notification_send(notification_id=notification.pk)
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.sent_at is not None


def test_a_notification_claimed_by_another_worker_is_not_sent(mailoutbox, moderator):
    notification = held()
    Notification.objects.filter(pk=notification.pk).update(claimed_at=timezone.now())
    assert not notification_send(notification_id=notification.pk)
    assert mailoutbox == []


def test_a_claim_older_than_the_lease_is_taken_over(mailoutbox, moderator):
    notification = held()
    Notification.objects.filter(pk=notification.pk).update(claimed_at=ago(minutes=30))
    assert notification_send(notification_id=notification.pk)
    assert len(mailoutbox) == 1


def test_an_smtp_failure_releases_the_claim_and_raises_for_a_retry(mocker, moderator):
    notification = held()
    mocker.patch(
        "django.core.mail.EmailMessage.send", side_effect=smtplib.SMTPServerDisconnected("down")
    )
    with pytest.raises(smtplib.SMTPServerDisconnected):
        notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert (notification.claimed_at, notification.sent_at) == (None, None)
    assert notification.attempts == 1
    assert "down" in notification.last_error


def test_a_retry_after_the_failure_sends_it(mocker, mailoutbox, moderator):
    notification = held()
    mocker.patch("django.core.mail.EmailMessage.send", side_effect=ConnectionRefusedError())
    with pytest.raises(OSError):
        notification_send(notification_id=notification.pk)
    mocker.stopall()
    assert notification_send(notification_id=notification.pk)
    assert len(mailoutbox) == 1


def test_with_no_moderator_address_it_is_marked_done_without_mail(mailoutbox):
    notification = held()
    assert notification_send(notification_id=notification.pk)
    assert mailoutbox == []


def test_a_reply_email_has_the_reply_and_a_signed_stop_link(mailoutbox):
    notification = reply_notification()
    notification_send(notification_id=notification.pk)
    message = mailoutbox[0]
    assert message.to == ["parent@example.org"]
    assert "I agree." in message.body
    stop_url = next(line for line in message.body.splitlines() if "/stop-notifications/" in line)
    token = stop_url.rstrip("/").rsplit("/", 1)[1]
    stop = stop_token_read(token)
    assert stop is not None
    assert stop.email == "parent@example.org"
    assert message.extra_headers["List-Unsubscribe"] == f"<{stop_url}>"
    assert stop_url.startswith("http://testserver/")


def test_a_reply_email_offers_one_click_unsubscribe(mailoutbox):
    notification_send(notification_id=reply_notification().pk)
    assert mailoutbox[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_reply_email_is_skipped_when_the_author_opted_out_meanwhile(mailoutbox):
    notification = reply_notification(notify=False)
    assert notification_send(notification_id=notification.pk)
    assert mailoutbox == []


def test_the_sweep_requeues_notifications_never_attempted(mocker):
    delay = mocker.patch("comments.tasks.send_notification.delay")
    old = held()
    Notification.objects.filter(pk=old.pk).update(created_at=ago(minutes=5))
    held()
    assert notification_requeue_unsent() == 1
    delay.assert_called_once_with(old.pk)


def test_the_sweep_requeues_notifications_whose_retries_ran_out(mocker):
    delay = mocker.patch("comments.tasks.send_notification.delay")
    abandoned = held()
    Notification.objects.filter(pk=abandoned.pk).update(
        created_at=ago(hours=5), attempted_at=ago(hours=2), attempts=30
    )
    retrying = held()
    Notification.objects.filter(pk=retrying.pk).update(
        created_at=ago(hours=5), attempted_at=ago(minutes=8), attempts=12
    )
    assert notification_requeue_unsent() == 1
    delay.assert_called_once_with(abandoned.pk)


def test_the_notification_sweep_stops_at_a_broker_outage(mocker):
    refused = OperationalError("connection refused")
    delay = mocker.patch("comments.tasks.send_notification.delay", side_effect=refused)
    for _ in range(2):
        old = held()
        Notification.objects.filter(pk=old.pk).update(created_at=ago(minutes=5))
    assert notification_requeue_unsent() == 2
    assert delay.call_count == 1
    assert Notification.objects.filter(sent_at=None).count() == 2


def test_the_sweep_ignores_sent_notifications(mocker):
    delay = mocker.patch("comments.tasks.send_notification.delay")
    sent = held()
    Notification.objects.filter(pk=sent.pk).update(created_at=ago(hours=3), sent_at=ago(hours=3))
    assert notification_requeue_unsent() == 0
    delay.assert_not_called()


def test_stopping_notifications_covers_the_authors_comments_in_the_thread():
    top = ApprovedCommentFactory.create(author_email="ann@example.org", notify_replies=True)
    later = ApprovedCommentFactory.create(
        article=top.article,
        root=top,
        parent=top,
        author_email="ann@example.org",
        notify_replies=True,
    )
    other_thread = ApprovedCommentFactory.create(
        article=top.article, author_email="ann@example.org", notify_replies=True
    )
    assert comment_notifications_stop(comment_id=later.pk, email="ann@example.org") == 2
    assert not Comment.objects.get(pk=top.pk).notify_replies
    assert Comment.objects.get(pk=other_thread.pk).notify_replies


def test_a_stop_token_for_another_address_stops_nothing():
    top = ApprovedCommentFactory.create(author_email="ann@example.org", notify_replies=True)
    assert comment_notifications_stop(comment_id=top.pk, email="eve@example.org") == 0


def test_a_tampered_stop_token_is_refused():
    token = stop_token_make(comment_id=1, email="ann@example.org")
    assert stop_token_read(token[:-2] + "xx") is None
    assert stop_token_read("garbage") is None
