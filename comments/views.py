"""The reader's pages: the article with its comments and form, and stop-notifications."""

import math
from dataclasses import dataclass
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from comments import editing, selectors, services
from comments.forms import CommentForm
from comments.models import Article, Comment
from comments.submitting import AWAITING_MODERATION, submission_fields
from comments.tokens import AUTHOR_COOKIE_SALT, form_timestamp_make, stop_token_read
from reex.net import CommentRateThrottle

AUTHOR_COOKIE = "reex_comments"
AUTHOR_COOKIE_MAX_AGE = 30 * 24 * 3600
AUTHOR_COOKIE_MAX_IDS = 20
THROTTLED = "You are posting comments too quickly. Please wait a minute and try again."


def _own_comment_ids(request: HttpRequest) -> list[int]:
    value = request.get_signed_cookie(AUTHOR_COOKIE, default="", salt=AUTHOR_COOKIE_SALT) or ""
    return [int(part) for part in value.split(",") if part.isdigit()]


def _remember_comment(request: HttpRequest, response: HttpResponse, comment: Comment) -> None:
    ids = [*_own_comment_ids(request), comment.pk][-AUTHOR_COOKIE_MAX_IDS:]
    response.set_signed_cookie(
        AUTHOR_COOKIE,
        ",".join(map(str, ids)),
        salt=AUTHOR_COOKIE_SALT,
        max_age=AUTHOR_COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _is_id(value: str) -> bool:
    # str.isdigit() also accepts digits such as "²" that int() refuses.
    return value.isascii() and value.isdigit()


def _approved(article: Article, value: object) -> Comment | None:
    """Return the article's approved comment whose id ``value`` is, if any."""
    text = str(value or "")
    if not _is_id(text):
        return None
    return selectors.comment_approved_get(article=article, comment_id=int(text))


@dataclass(frozen=True)
class Refused:
    """Why the form's comment was not saved: the status, and for 429 the wait in seconds."""

    status: HTTPStatus
    retry_after: int | None = None


def _submit(request: HttpRequest, article: Article, form: CommentForm) -> Comment | Refused:
    """Save the form's comment, or put the refusal on the form and return it."""
    if not form.is_valid():
        return Refused(HTTPStatus.BAD_REQUEST)
    throttle = CommentRateThrottle()
    if not throttle.allow_request(request, None):  # type: ignore[arg-type]
        form.add_error(None, THROTTLED)
        return Refused(HTTPStatus.TOO_MANY_REQUESTS, math.ceil(throttle.wait() or 60))
    try:
        return services.comment_create(
            article=article, **submission_fields(form.cleaned_data, request)
        )
    except ValidationError as error:
        form.add_error(None, error)
        return Refused(HTTPStatus.BAD_REQUEST)
    except services.CommentsClosed as error:
        form.add_error(None, error.message)
        return Refused(HTTPStatus.FORBIDDEN)
    except services.DuplicateComment as error:
        form.add_error(None, error.message)
        return Refused(HTTPStatus.CONFLICT)
    except services.CommentFlood as error:
        form.add_error(None, f"{error.message} Try again in {error.retry_after} seconds.")
        return Refused(HTTPStatus.TOO_MANY_REQUESTS, error.retry_after)


def _render(
    request: HttpRequest, article: Article, form: CommentForm, status: int = HTTPStatus.OK
) -> HttpResponse:
    context = {
        "article": article,
        "form": form,
        "thread": selectors.comment_thread(article=article, own_ids=_own_comment_ids(request)),
        "comment_count": selectors.article_comment_count(article=article),
        "accepts_comments": selectors.article_accepts_comments(article=article, now=timezone.now()),
        "max_depth": settings.REEX_MAX_REPLY_DEPTH,
        "editable_ids": editing.editable_ids(request),
        "replying_to": _approved(article, form["parent"].value()),
    }
    return render(request, "comments/article.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def article_page(request: HttpRequest, key: str) -> HttpResponse:
    article = get_object_or_404(Article, key=key)
    if request.method != "POST":
        parent = _approved(article, request.GET.get("replyto"))
        initial = {"ts": form_timestamp_make(), "parent": parent.pk if parent else None}
        return _render(request, article, CommentForm(initial=initial))
    form = CommentForm(request.POST)
    outcome = _submit(request, article, form)
    if isinstance(outcome, Comment):
        messages.success(request, AWAITING_MODERATION)
        url = reverse("comments:article", kwargs={"key": article.key})
        response = HttpResponseRedirect(f"{url}#comment-{outcome.pk}")
        _remember_comment(request, response, outcome)
        editing.edit_token_remember(request, response, outcome)
        return response
    if form.timestamp_stale:
        data = request.POST.copy()
        data["ts"] = form_timestamp_make()
        form.data = data
    page = _render(request, article, form, status=outcome.status)
    if outcome.retry_after is not None:
        page["Retry-After"] = str(max(outcome.retry_after, 1))
    return page


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def stop_notifications(request: HttpRequest, token: str) -> HttpResponse:
    """Show a button on GET (mail scanners follow links); stop notifications on any POST.

    No CSRF token or cookie: a mail client's RFC 8058 one-click POST comes without them,
    and the signed token is the only authority the request needs.
    """
    stop = stop_token_read(token)
    if stop is None:
        invalid = {"invalid": True}
        return render(request, "comments/stop_notifications.html", invalid, status=400)
    comment = selectors.comment_get(comment_id=stop.comment_id)
    done = False
    if request.method == "POST":
        services.comment_notifications_stop(comment_id=stop.comment_id, email=stop.email)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            # Nobody reads the answer to a mail client's one-click POST: no page.
            return HttpResponse("Reply notifications stopped.\n", content_type="text/plain")
        done = True
    context: dict[str, object] = {"comment": comment, "done": done}
    return render(request, "comments/stop_notifications.html", context)
