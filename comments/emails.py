"""The emails the comments capability sends; absolute links use REEX_BASE_URL."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from comments.models import Comment, Notification
from comments.tokens import stop_token_make


def one_line(text: str) -> str:
    """Return text fit for a header: every run of whitespace, line breaks included, one space."""
    return " ".join(text.split())


def absolute(path: str) -> str:
    return f"{settings.REEX_BASE_URL}{path}"


def moderator_emails() -> list[str]:
    """Return the addresses of active moderators (Moderators group and superusers)."""
    users = get_user_model().objects.filter(is_active=True)
    users = users.filter(Q(groups__name="Moderators") | Q(is_superuser=True)).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def comment_admin_url(comment: Comment) -> str:
    return absolute(reverse("admin:comments_comment_change", args=[comment.pk]))


def comment_public_url(comment: Comment) -> str:
    path = reverse("comments:article", kwargs={"key": comment.article.key})
    return absolute(f"{path}#comment-{comment.pk}")


def held_comment_message(comment: Comment) -> EmailMessage | None:
    """Return the email telling moderators a comment waits for them (None: nobody to tell)."""
    recipients = moderator_emails()
    if not recipients:
        return None
    context = {"comment": comment, "admin_url": comment_admin_url(comment)}
    subject = f"[reex] Comment held for moderation on “{one_line(comment.article.title)}”"
    body = render_to_string("comments/email/held_comment.txt", context)
    return EmailMessage(subject=subject, body=body, to=recipients)


def reply_message(comment: Comment) -> EmailMessage | None:
    """Return the email telling a parent's author about an approved reply (None: not owed)."""
    parent = comment.parent
    if parent is None or not parent.notify_replies or comment.status != Comment.Status.APPROVED:
        return None
    token = stop_token_make(comment_id=parent.pk, email=parent.author_email)
    stop_url = absolute(reverse("comments:stop-notifications", kwargs={"token": token}))
    context = {"comment": comment, "parent": parent, "url": comment_public_url(comment)}
    context["stop_url"] = stop_url
    subject = f"New reply to your comment on “{one_line(comment.article.title)}”"
    body = render_to_string("comments/email/reply.txt", context)
    # RFC 8058: the mail client may POST the link at once, without the page's button.
    headers = {
        "List-Unsubscribe": f"<{stop_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return EmailMessage(subject=subject, body=body, to=[parent.author_email], headers=headers)


def notification_message(notification: Notification) -> EmailMessage | None:
    """Return the email a notification stands for, or None when nothing is to be sent."""
    if notification.kind == Notification.Kind.MODERATORS:
        return held_comment_message(notification.comment)
    return reply_message(notification.comment)
