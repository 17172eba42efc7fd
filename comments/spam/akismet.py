"""Akismet, when AKISMET_API_KEY and AKISMET_SITE_URL are set: the only module that talks to it.

The check sends what Akismet documents for comment-check; moderators' decisions go back
as submit-spam / submit-ham with the same fields, from a task after commit.
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any, Literal

import akismet
import httpx
from django.conf import settings
from django.urls import reverse

from comments.models import Comment, ModerationEvent

logger = logging.getLogger(__name__)
Status = Comment.Status
Feedback = Literal["spam", "ham"]


class AkismetUnavailable(Exception):
    """Akismet could not answer (network, timeout, HTTP error, bad key, odd reply)."""


class _ApiTransport(httpx.HTTPTransport):
    """Send the client's requests to AKISMET_API_URL (a test server or a proxy if set)."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self._base = httpx.URL(base_url)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        base = self._base
        request.url = request.url.copy_with(scheme=base.scheme, host=base.host, port=base.port)
        request.headers["Host"] = base.netloc.decode()
        return super().handle_request(request)


def akismet_enabled() -> bool:
    return bool(settings.AKISMET_API_KEY and settings.AKISMET_SITE_URL)


def _client(http: httpx.Client) -> akismet.SyncClient:
    config = akismet.Config(key=settings.AKISMET_API_KEY, url=settings.AKISMET_SITE_URL)
    return akismet.SyncClient(config=config, http_client=http)


def _http() -> httpx.Client:
    return httpx.Client(
        headers={"User-Agent": f"reex | {akismet.USER_AGENT}"},
        timeout=settings.AKISMET_TIMEOUT_SECONDS,
        transport=_ApiTransport(settings.AKISMET_API_URL),
    )


def _permalink(comment: Comment) -> str:
    if comment.article.url:
        return comment.article.url
    path = reverse("comments:article", kwargs={"key": comment.article.key})
    return f"{settings.REEX_BASE_URL}{path}"


def akismet_arguments(comment: Comment) -> dict[str, Any]:
    """Return the documented comment-check fields for a comment (empty ones left out)."""
    fields = {
        "user_ip": comment.ip_address or "",
        "user_agent": comment.user_agent,
        "referrer": comment.referrer,
        "permalink": _permalink(comment),
        "comment_type": "reply" if comment.parent_id else "comment",
        "comment_author": comment.author_name,
        "comment_author_email": comment.author_email,
        "comment_author_url": comment.author_url,
        "comment_content": comment.body,
        "comment_date_gmt": comment.created_at.astimezone(UTC).isoformat(),
        "blog_lang": settings.LANGUAGE_CODE.replace("-", "_"),
        "blog_charset": "UTF-8",
    }
    return {name: value for name, value in fields.items() if value or name == "user_ip"}


def akismet_check(comment: Comment) -> bool:
    """Return whether Akismet calls the comment spam; raise AkismetUnavailable on failure."""
    arguments = akismet_arguments(comment)
    try:
        with _http() as http:
            answer = _client(http).comment_check(**arguments)
    except akismet.AkismetError as error:
        logger.warning("Akismet check of comment %s failed: %s", comment.pk, error)
        raise AkismetUnavailable(_short(error)) from error
    return answer in (akismet.CheckResponse.SPAM, akismet.CheckResponse.DISCARD)


def akismet_submit(*, comment_id: int, kind: Feedback) -> bool:
    """Tell Akismet a comment is spam or ham; return False when there is nothing to send."""
    if not akismet_enabled():
        return False
    comment = Comment.objects.select_related("article").filter(pk=comment_id).first()
    if comment is None:
        return False
    arguments = akismet_arguments(comment)
    try:
        with _http() as http:
            client = _client(http)
            submit = client.submit_spam if kind == "spam" else client.submit_ham
            submit(**arguments)
    except akismet.AkismetError as error:
        logger.warning("Akismet submit-%s of comment %s failed: %s", kind, comment_id, error)
        raise AkismetUnavailable(_short(error)) from error
    return True


def _short(error: Exception) -> str:
    return " ".join(str(error).split())[:200] or type(error).__name__


def akismet_feedback_kind(*, event: ModerationEvent) -> Feedback | None:
    """Return what a moderator's decision teaches Akismet, if anything.

    Spam is reported when a moderator marks a comment spam; ham when they say "not spam"
    or approve a comment that was in spam (a false positive of Akismet or the filters).
    """
    if event.actor_id is None:
        return None
    if event.to_status == Status.SPAM and event.from_status != Status.SPAM:
        return "spam"
    if event.to_status == Status.APPROVED and (
        event.action == "ham" or event.from_status == Status.SPAM
    ):
        return "ham"
    return None
