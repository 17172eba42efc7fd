"""The reader's pages: the article with its comments and form, and stop-notifications."""

import math
from dataclasses import dataclass
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from comments import editing, page_slots, public_cache, selectors, services
from comments.forms import CommentForm, FlagForm
from comments.models import Article, Comment
from comments.reporters import reporter_fingerprint, reporter_source
from comments.submitting import AWAITING_MODERATION, submission_fields
from comments.tokens import (
    AUTHOR_COOKIE_SALT,
    ModerationLinkExpired,
    form_timestamp_make,
    moderation_token_read,
    stop_token_read,
)
from reex.net import CommentRateThrottle, FlagThrottle, client_ip

AUTHOR_COOKIE = "reex_comments"
AUTHOR_COOKIE_MAX_AGE = 30 * 24 * 3600
AUTHOR_COOKIE_MAX_IDS = 20
THROTTLED = "You are posting comments too quickly. Please wait a minute and try again."
REPORT_THROTTLED = "You have sent many reports. Please wait a while and try again."
REPORT_THANKS = "Thank you for your report: moderators will look at this comment."


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
    request: HttpRequest,
    article: Article,
    form: CommentForm,
    status: int = HTTPStatus.OK,
    **extra: object,
) -> HttpResponse:
    context = {
        **extra,
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


def _page_shared(request: HttpRequest) -> bool:
    """Return whether the reader sees what every reader sees: no own comments, no messages,
    no reply form (a CSRF cookie alone changes nothing but the token)."""
    alone = set(request.COOKIES) <= {settings.CSRF_COOKIE_NAME}
    return request.method in ("GET", "HEAD") and alone and not request.GET


def _page_for_everyone(request: HttpRequest, key: str) -> bytes:
    """Render the article page with slots where each reader's CSRF token and form time go."""
    article = get_object_or_404(Article, key=key)
    csrf_slot, time_slot = page_slots.slots()
    form = CommentForm(initial={"ts": time_slot, "parent": None})
    return _render(request, article, form, csrf_token=csrf_slot).content


def _page_cached(request: HttpRequest, key: str) -> HttpResponse:
    """Serve the shared page from the cache the public lists use (made stale with them)."""
    # The stand-ins follow SECRET_KEY: a page rendered under another key is another page.
    body = public_cache.public_list_first_page(
        article_key=key,
        url=f"reader-page:{key}:{page_slots.slots()[0]}",
        render=lambda: _page_for_everyone(request, key),
    )
    return HttpResponse(page_slots.filled(request, body))


@require_http_methods(["GET", "HEAD", "POST"])
def article_page(request: HttpRequest, key: str) -> HttpResponse:
    if _page_shared(request):
        return _page_cached(request, key)
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


def _report(request: HttpRequest, comment_id: int, form: FlagForm) -> HTTPStatus | None:
    """Record the form's report; None when done, else the refusal's status."""
    if not form.is_valid():
        return HTTPStatus.BAD_REQUEST
    if not FlagThrottle().allow_request(request, None):  # type: ignore[arg-type]
        form.add_error(None, REPORT_THROTTLED)
        return HTTPStatus.TOO_MANY_REQUESTS
    ip, agent = client_ip(request), request.META.get("HTTP_USER_AGENT", "")
    try:
        flag = services.flag_create(
            comment_id=comment_id,
            reason=form.cleaned_data["reason"],
            detail=form.cleaned_data["detail"],
            reporter=reporter_fingerprint(ip=ip, user_agent=agent),
            source=reporter_source(ip=ip),
        )
    except ValidationError as error:
        form.add_error(None, error)
        return HTTPStatus.BAD_REQUEST
    if flag is None:
        raise Http404("No published comment has this id.")
    return None


@require_http_methods(["GET", "HEAD", "POST"])
def comment_report(request: HttpRequest, comment_id: int) -> HttpResponse:
    """Show the report form for a published comment; record the report on POST.

    A comment that is not published is a 404 like a missing one.
    """
    comment = selectors.comment_get(comment_id=comment_id)
    if comment is None or comment.status != Comment.Status.APPROVED:
        raise Http404("No published comment has this id.")
    form = FlagForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        status = _report(request, comment_id, form)
        if status is None:
            messages.success(request, REPORT_THANKS)
            url = reverse("comments:article", kwargs={"key": comment.article.key})
            return HttpResponseRedirect(f"{url}#comments")
    else:
        status = HTTPStatus.OK
    context = {"comment": comment, "form": form}
    return render(request, "comments/report.html", context, status=status)


LINK_REFUSALS: dict[type[services.CommentError], HTTPStatus] = {
    services.LinkUsed: HTTPStatus.GONE,
    services.AlreadyDecided: HTTPStatus.CONFLICT,
    services.LinkNotAllowed: HTTPStatus.FORBIDDEN,
}


def _link_page(
    request: HttpRequest, status: int = HTTPStatus.OK, **context: object
) -> HttpResponse:
    return render(request, "comments/moderation_link.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def moderation_link(request: HttpRequest, token: str) -> HttpResponse:
    """A held-comment email's action link: one button on GET (mail scanners open links and
    change nothing), the action on POST, as the moderator the token names."""
    try:
        link = moderation_token_read(token, max_age_hours=settings.REEX_MODERATION_LINK_HOURS)
    except ModerationLinkExpired:
        return _link_page(request, HTTPStatus.GONE, refusal="This link has expired.")
    if link is None:
        return _link_page(request, HTTPStatus.BAD_REQUEST, refusal="This link is not valid.")
    try:
        if request.method == "POST":
            comment = services.moderation_link_use(link=link)
            return _link_page(request, comment=comment, done=True, action=link.action)
        comment = services.moderation_link_check(link=link)
    except tuple(LINK_REFUSALS) as error:
        return _link_page(request, LINK_REFUSALS[type(error)], refusal=error.message)
    return _link_page(request, comment=comment, action=link.action)


def _thread_fragment(request: HttpRequest, key: str) -> bytes:
    article = get_object_or_404(Article, key=key)
    reader_page = request.build_absolute_uri(reverse("comments:article", kwargs={"key": key}))
    context = {
        "article": article,
        "thread": selectors.comment_thread(article=article),
        "comment_count": selectors.article_comment_count(article=article),
        "accepts_comments": selectors.article_accepts_comments(article=article, now=timezone.now()),
        "max_depth": settings.REEX_MAX_REPLY_DEPTH,
        "permalink_base": article.url or reader_page,
    }
    return render_to_string("comments/embed/thread.html", context).encode()


@require_GET
def article_thread_fragment(request: HttpRequest, key: str) -> HttpResponse:
    """Return the approved thread as an HTML fragment with schema.org Comment markup.

    For sites that include it server-side (search engines read it) and for embed.js.
    Cached and invalidated with the API's public list; the query string is ignored.
    """
    body = public_cache.public_list_first_page(
        article_key=key,
        url=request.build_absolute_uri(request.path),
        render=lambda: _thread_fragment(request, key),
    )
    response = HttpResponse(body, content_type="text/html; charset=utf-8")
    # Served from reex's own cache, which a moderator's decision clears at once; a browser or
    # proxy keeping it for a minute would show the reader their published comment late.
    patch_cache_control(response, no_cache=True)
    return response
