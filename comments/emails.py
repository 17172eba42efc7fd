"""The emails the comments capability sends; absolute links use REEX_BASE_URL."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from comments.models import Comment, Notification
from comments.tokens import MODERATION_LINK_ACTIONS, moderation_token_make, stop_token_make


def one_line(text: str) -> str:
    """Return text fit for a header: every run of whitespace, line breaks included, one space."""
    return " ".join(text.split())


def absolute(path: str) -> str:
    return f"{settings.REEX_BASE_URL}{path}"


def moderator_emails() -> list[str]:
    """Return the addresses of active moderators (Moderators group and superusers)."""
    return sorted({email for _, email in moderators_to_notify()})


def moderators_to_notify() -> list[tuple[int, str]]:
    """Return (user id, address) of active moderators with an address, one per address."""
    users = get_user_model().objects.filter(is_active=True)
    users = users.filter(Q(groups__name="Moderators") | Q(is_superuser=True)).exclude(email="")
    by_email = dict(users.order_by("-pk").values_list("email", "pk"))
    return sorted((pk, email) for email, pk in by_email.items())


def moderation_links(comment: Comment, user_id: int) -> dict[str, str]:
    """Return the signed single-use Approve, Spam and Trash links for this moderator."""
    links = {}
    for action in MODERATION_LINK_ACTIONS:
        token = moderation_token_make(comment_id=comment.pk, user_id=user_id, action=action)
        links[action] = absolute(reverse("comments:moderation-link", kwargs={"token": token}))
    return links


def comment_admin_url(comment: Comment) -> str:
    return absolute(reverse("admin:comments_comment_change", args=[comment.pk]))


def comment_public_url(comment: Comment) -> str:
    path = reverse("comments:article", kwargs={"key": comment.article.key})
    return absolute(f"{path}#comment-{comment.pk}")


def held_comment_messages(comment: Comment) -> list[EmailMessage]:
    """Return the emails telling moderators a comment waits for them, one each: the
    action links in each name its moderator."""
    subject = f"[reex] Comment held for moderation on “{one_line(comment.article.title)}”"
    messages = []
    for user_id, email in moderators_to_notify():
        context = {
            "comment": comment,
            "admin_url": comment_admin_url(comment),
            "links": moderation_links(comment, user_id),
            "hours": settings.REEX_MODERATION_LINK_HOURS,
        }
        body = render_to_string("comments/email/held_comment.txt", context)
        messages.append(EmailMessage(subject=subject, body=body, to=[email]))
    return messages


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


def notification_messages(notification: Notification) -> list[EmailMessage]:
    """Return the emails a notification stands for ([] when nothing is to be sent)."""
    if notification.kind == Notification.Kind.MODERATORS:
        return held_comment_messages(notification.comment)
    reply = reply_message(notification.comment)
    return [] if reply is None else [reply]
