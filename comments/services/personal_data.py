"""What privacy asks of comments: an address's comments anonymised, old request data cleared."""

from datetime import datetime

from django.db.models import Q

from comments.models import Comment
from comments.selectors import comments_by_email, reply_notifications_to
from comments.services.transitions import public_lists_changed

# What an erased comment shows instead of its author, as WordPress does.
ANONYMOUS_AUTHOR = "Anonymous"


def comments_anonymise(*, email: str) -> int:
    """Strip the address's comments of everything about their author; return how many.

    The text stays. The public list shows names and websites: its cached pages go stale
    once the transaction commits.
    """
    comments = comments_by_email(email=email)
    public_lists_changed(comments.values_list("article__key", flat=True))
    return comments.update(
        author_name=ANONYMOUS_AUTHOR,
        author_email="",
        author_url="",
        ip_address=None,
        user_agent="",
        referrer="",
        notify_replies=False,
    )


def reply_notifications_delete(*, email: str) -> int:
    """Delete the reply emails owed or sent to the address (as the parent's author)."""
    return reply_notifications_to(email=email).delete()[0]


def comments_request_data_clear(*, before: datetime, batch: int = 1000) -> int:
    """Clear IP address, user agent and referrer of comments older than ``before``.

    Return how many comments changed. Batches keep each UPDATE's locks short.
    """
    identifying = Q(ip_address__isnull=False) | ~Q(user_agent="") | ~Q(referrer="")
    stale = Comment.objects.filter(identifying, created_at__lt=before)
    done = 0
    while ids := list(stale.order_by("pk").values_list("pk", flat=True)[:batch]):
        done += Comment.objects.filter(pk__in=ids).update(
            ip_address=None, user_agent="", referrer=""
        )
    return done
