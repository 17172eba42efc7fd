"""What moderators' decisions teach Akismet: owed in a row, sent by a task, swept when lost."""

from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from comments import tasks
from comments.models import AkismetFeedback, Comment
from comments.spam import akismet
from reex.enqueue import enqueue, enqueue_on_commit

# Retries back off to an hour a try, ten of them: a row untried this long was given up.
FEEDBACK_ABANDONED_AFTER = timedelta(hours=6)
# Feedback about a comment this old teaches Akismet little: the sweep drops it.
FEEDBACK_MAX_AGE = timedelta(days=7)
# The on_commit enqueue has had this long to reach the broker.
FEEDBACK_ENQUEUE_GRACE = timedelta(minutes=2)


def akismet_feedback_queue(*, comment: Comment, kind: akismet.Feedback) -> None:
    """Owe Akismet this feedback (inside the decision's transaction); queue it after commit."""
    AkismetFeedback.objects.create(comment=comment, kind=kind)
    enqueue_on_commit(tasks.akismet_feedback, comment.pk, kind)


def akismet_feedback_send(*, comment_id: int, kind: akismet.Feedback) -> bool:
    """Tell Akismet, then mark what was owed as sent; AkismetUnavailable is raised for the
    task's retry (the rows stay owed, so the sweep finds them if the retries run out)."""
    started = timezone.now()
    owed = AkismetFeedback.objects.filter(
        comment_id=comment_id, kind=kind, sent_at=None, created_at__lte=started
    )
    owed.update(attempted_at=started, attempts=F("attempts") + 1)
    sent = akismet.akismet_submit(comment_id=comment_id, kind=kind)
    owed.update(sent_at=timezone.now())
    return sent


def akismet_feedback_requeue(*, now: datetime | None = None) -> int:
    """Queue again feedback never attempted (broker down) or given up; count the tasks."""
    now = now or timezone.now()
    AkismetFeedback.objects.filter(sent_at=None, created_at__lt=now - FEEDBACK_MAX_AGE).delete()
    never_tried = Q(attempted_at=None, created_at__lt=now - FEEDBACK_ENQUEUE_GRACE)
    given_up = Q(attempted_at__lt=now - FEEDBACK_ABANDONED_AFTER)
    owed = AkismetFeedback.objects.filter(never_tried | given_up, sent_at=None)
    pairs = list(owed.order_by().values_list("comment_id", "kind").distinct()[:500])
    for comment_id, kind in pairs:
        if not enqueue(tasks.akismet_feedback, comment_id, kind):
            break  # the broker is down: the next sweep tries again
    return len(pairs)
