"""The emails comments owe: queued after commit, claimed and sent once, swept when lost."""

import functools
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from comments import emails, tasks
from comments.models import Comment, Notification
from comments.selectors import comment_thread_members
from reex import metrics, wakeup
from reex.addresses import email_normalise
from reex.enqueue import enqueue
from reex.wakeup import wake_on_commit

# A notification claimed longer ago than this belonged to a worker that died: retake it.
NOTIFICATION_LEASE = timedelta(minutes=10)
_ERROR_TEXT_LIMIT = 500


def notification_queue(comment: Comment, kind: Notification.Kind) -> None:
    """Owe one email of this kind for the comment; queue its sending after commit."""
    notification, created = Notification.objects.get_or_create(comment=comment, kind=kind)
    if created:
        wake_on_commit(tasks.send_notification, notification.pk, name="notifications")


def reply_notification_queue(comment: Comment) -> None:
    """Owe the parent's author an email about this approved reply, if they asked for one."""
    if comment.kind != Comment.Kind.COMMENT:
        return  # pingbacks and trackbacks are never emailed about
    parent = comment.parent
    if parent is None or not parent.notify_replies:
        return
    if parent.author_email == comment.author_email:
        return
    notification_queue(comment, Notification.Kind.REPLY)


def _claim(notification_id: int, *, now: datetime) -> bool:
    free = Q(claimed_at=None) | Q(claimed_at__lt=now - NOTIFICATION_LEASE)
    unsent = Notification.objects.filter(free, pk=notification_id, sent_at=None)
    claimed = unsent.update(claimed_at=now, attempted_at=now, attempts=F("attempts") + 1)
    return claimed == 1


def notification_send(*, notification_id: int) -> bool:
    """Send one notification email unless another worker has or is sending it.

    Returns whether this call did the work. A failure releases the claim and re-raises,
    so the task's retry (or the sweep) sends it later.
    """
    if not _claim(notification_id, now=timezone.now()):
        return False
    notification = Notification.objects.select_related("comment__article", "comment__parent")
    row = notification.get(pk=notification_id)
    try:
        # One email per moderator (their links name them); a failure retries them all.
        for message in emails.notification_messages(row):
            message.send()
    except Exception as error:
        Notification.objects.filter(pk=notification_id).update(
            claimed_at=None, last_error=str(error)[:_ERROR_TEXT_LIMIT]
        )
        raise
    Notification.objects.filter(pk=notification_id).update(sent_at=timezone.now(), last_error="")
    metrics.EMAILS_SENT.labels(f"notification-{row.kind}").inc()
    return True


def notification_send_woken(*, notification_id: int) -> int:
    """Send the notification that woke the task, then every one owed while it ran."""
    tried = {notification_id}
    with wakeup.handed_over_on_failure("notifications", tasks.send_notification, 0):
        own = notification_send(notification_id=notification_id)
    fresh = functools.partial(notifications_send_fresh, tried=tried)
    return int(own) + wakeup.drain_until_quiet("notifications", fresh)


def notifications_send_fresh(*, tried: set[int]) -> int:
    """Send the oldest notification owed in the last minutes and not tried; count it.

    One that fails goes to a task of its own, which retries it with backoff.
    """
    fresh = Notification.objects.filter(
        sent_at=None, attempted_at=None, created_at__gte=timezone.now() - timedelta(minutes=2)
    ).exclude(pk__in=tried)
    notification_id = fresh.order_by("created_at", "id").values_list("pk", flat=True).first()
    if notification_id is None:
        return 0
    tried.add(notification_id)
    try:
        notification_send(notification_id=notification_id)
    except Exception:
        enqueue(tasks.send_notification, notification_id)
    return 1


def notification_requeue_unsent(*, now: datetime | None = None) -> int:
    """Queue again notifications never attempted (broker down) or abandoned (retries ran out)."""
    now = now or timezone.now()
    never_tried = Q(attempted_at=None, created_at__lt=now - timedelta(minutes=2))
    # Retries back off to at most 10 minutes: an hour without an attempt means they ran out.
    abandoned = Q(claimed_at=None, attempted_at__lt=now - timedelta(hours=1))
    lapsed = Q(claimed_at__lt=now - NOTIFICATION_LEASE)
    unsent = Notification.objects.filter(never_tried | abandoned | lapsed, sent_at=None)
    ids = list(unsent.values_list("pk", flat=True)[:1000])
    for notification_id in ids:
        if not enqueue(tasks.send_notification, notification_id):
            break  # the broker is down: the next sweep tries again
    return len(ids)


@transaction.atomic
def comment_notifications_stop(*, comment_id: int, email: str) -> int:
    """Stop reply notifications to this address for the whole thread of a comment."""
    address = email_normalise(email)
    comment = Comment.objects.filter(pk=comment_id, author_email=address).first()
    if comment is None:
        return 0
    mine = comment_thread_members(comment=comment).filter(author_email=comment.author_email)
    return mine.update(notify_replies=False)
