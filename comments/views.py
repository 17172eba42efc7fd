"""The reader's pages: the article with its comments and form, and stop-notifications."""

from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods

from comments import selectors, services
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


def _submit(request: HttpRequest, article: Article, form: CommentForm) -> Comment | HTTPStatus:
    """Save the form's comment, or put the refusal on the form and return the status."""
    if not form.is_valid():
        return HTTPStatus.BAD_REQUEST
    if not CommentRateThrottle().allow_request(request, None):  # type: ignore[arg-type]
        form.add_error(None, THROTTLED)
        return HTTPStatus.TOO_MANY_REQUESTS
    try:
        return services.comment_create(
            article=article, **submission_fields(form.cleaned_data, request)
        )
    except ValidationError as error:
        form.add_error(None, error)
        return HTTPStatus.BAD_REQUEST
    except services.CommentsClosed as error:
        form.add_error(None, error.message)
        return HTTPStatus.FORBIDDEN
    except services.DuplicateComment as error:
        form.add_error(None, error.message)
        return HTTPStatus.CONFLICT
    except services.CommentFlood as error:
        form.add_error(None, f"{error.message} Try again in {error.retry_after} seconds.")
        return HTTPStatus.TOO_MANY_REQUESTS


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
        return response
    if form.timestamp_stale:
        data = request.POST.copy()
        data["ts"] = form_timestamp_make()
        form.data = data
    return _render(request, article, form, status=outcome)


@require_http_methods(["GET", "HEAD", "POST"])
def stop_notifications(request: HttpRequest, token: str) -> HttpResponse:
    """Show a button on GET (mail scanners follow links); stop notifications on POST."""
    stop = stop_token_read(token)
    if stop is None:
        invalid = {"invalid": True}
        return render(request, "comments/stop_notifications.html", invalid, status=400)
    comment = selectors.comment_get(comment_id=stop.comment_id)
    done = False
    if request.method == "POST":
        services.comment_notifications_stop(comment_id=stop.comment_id, email=stop.email)
        done = True
    context: dict[str, object] = {"comment": comment, "done": done}
    return render(request, "comments/stop_notifications.html", context)


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
    body = selectors.public_list_first_page(
        article_key=key,
        url=request.build_absolute_uri(request.path),
        render=lambda: _thread_fragment(request, key),
    )
    response = HttpResponse(body, content_type="text/html; charset=utf-8")
    # Served from reex's own cache, which a moderator's decision clears at once; a browser or
    # proxy keeping it for a minute would show the reader their published comment late.
    patch_cache_control(response, no_cache=True)
    return response
