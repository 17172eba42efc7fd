"""The comments' outbound events (reex.outbound): the signed webhook and Slack.

Each function runs inside the transaction that changed the comment; the events commit
with it. The payloads carry no email or IP address.
"""

from typing import Any

from comments.emails import comment_admin_url, comment_public_url
from comments.models import Comment
from reex.outbound import slack_escape, webhook_event, webhook_receivers

SLACK_EXCERPT = 500


def _comment_data(comment: Comment) -> dict[str, Any]:
    article = comment.article
    return {
        "comment": {
            "id": comment.pk,
            "parent": comment.parent_id,
            "status": comment.status,
            "author_name": comment.author_name,
            "author_url": comment.author_url,
            "body": comment.body,
            "body_html": comment.body_html,
            "spam_score": comment.spam_score,
            "reasons": comment.reasons,
            "created_at": comment.created_at.isoformat(),
            "url": comment_public_url(comment),
            "admin_url": comment_admin_url(comment),
        },
        "article": {"key": article.key, "title": article.title, "url": article.url},
    }


def _excerpt(comment: Comment) -> str:
    text = " ".join(comment.body.split())
    return text if len(text) <= SLACK_EXCERPT else text[: SLACK_EXCERPT - 1] + "…"


def slack_comment_message(comment: Comment, *, headline: str, why: str) -> dict[str, Any]:
    """Return a Slack message (text for notifications, blocks for the channel) about a
    comment: the headline, the author and an excerpt, why, and a button to admin."""
    title, admin_url = comment.article.title, comment_admin_url(comment)
    text = slack_escape(f"{headline} on “{title}” by {comment.author_name}")
    quote = "\n".join(f">{line}" for line in slack_escape(_excerpt(comment)).splitlines())
    head = f"*{slack_escape(headline)}* on <{comment_public_url(comment)}|{slack_escape(title)}>"
    who = f"*{slack_escape(comment.author_name)}*\n{quote}"
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Moderate in admin"},
        "url": admin_url,
    }
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": head}},
            {"type": "section", "text": {"type": "mrkdwn", "text": who}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(why)}]},
            {"type": "actions", "elements": [button]},
        ],
    }


def comment_event_held(comment: Comment) -> None:
    """A comment waits for a moderator: to the webhook and to Slack."""
    if not webhook_receivers(slack=True):
        return
    why = "Held: " + (" ".join(comment.reasons) or "moderation mode")
    slack = slack_comment_message(comment, headline="Comment held for moderation", why=why)
    webhook_event(
        event="comment.held",
        subject=f"comment:{comment.pk}",
        data=_comment_data(comment),
        slack=slack,
    )


def comment_event_approved(comment: Comment) -> None:
    """A comment was published (by the checks or a moderator): to the webhook."""
    if not webhook_receivers(slack=False):
        return
    webhook_event(
        event="comment.approved", subject=f"comment:{comment.pk}", data=_comment_data(comment)
    )


def comment_event_reported(comment: Comment, *, reports: int, reason: str = "") -> None:
    """Readers reported a comment: to the webhook and to Slack.

    Called by the readers' reports service (``reports`` counted so far, the latest
    reader's ``reason``) inside its transaction.
    """
    if not webhook_receivers(slack=True):
        return
    data = _comment_data(comment) | {"report": {"count": reports, "reason": reason}}
    why = f"Reported {reports} time{'s' if reports != 1 else ''}" + (
        f": {reason}" if reason else "."
    )
    slack = slack_comment_message(comment, headline="Comment reported by readers", why=why)
    webhook_event(event="comment.reported", subject=f"comment:{comment.pk}", data=data, slack=slack)
