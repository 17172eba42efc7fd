"""The reader pages of the author's edit window: the edit tokens in a signed cookie, the
edit page and the delete button. The API's rules, through the same services."""

import json
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from comments import selectors, services
from comments.forms import CommentEditForm
from comments.models import Comment
from comments.tokens import EDIT_COOKIE_SALT

EDIT_COOKIE = "reex_edit"
EDIT_COOKIE_MAX_TOKENS = 10
EDITED = "Your edit is saved and awaits moderation."
DELETED = "Your comment is deleted."
NOT_YOURS = "Only the author can edit a comment, from the browser it was sent from."
TOO_LATE = "You can no longer edit this comment."


def edit_tokens(request: HttpRequest) -> dict[int, str]:
    """Return the edit tokens the reader's cookie holds, by comment id."""
    value = request.get_signed_cookie(EDIT_COOKIE, default="", salt=EDIT_COOKIE_SALT) or ""
    try:
        stored = json.loads(value) if value else {}
    except ValueError:
        return {}
    if not isinstance(stored, dict):
        return {}
    return {int(k): str(v) for k, v in stored.items() if str(k).isdigit()}


def edit_tokens_store(response: HttpResponse, tokens: dict[int, str]) -> None:
    """Keep these tokens (the newest few) in the reader's cookie for the edit window."""
    kept = dict(sorted(tokens.items())[-EDIT_COOKIE_MAX_TOKENS:])
    response.set_signed_cookie(
        EDIT_COOKIE,
        json.dumps(kept, separators=(",", ":")),
        salt=EDIT_COOKIE_SALT,
        max_age=max(settings.REEX_EDIT_WINDOW_MINUTES, 1) * 60,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def edit_token_remember(request: HttpRequest, response: HttpResponse, comment: Comment) -> None:
    if comment.edit_token:
        edit_tokens_store(response, {**edit_tokens(request), comment.pk: comment.edit_token})


def editable_ids(request: HttpRequest) -> set[int]:
    """Return the reader's own comments they may still edit (for the Edit links)."""
    return selectors.comment_ids_editable(ids=edit_tokens(request), now=timezone.now())


def _article_url(comment: Comment, *, anchor: bool = True) -> str:
    url = reverse("comments:article", kwargs={"key": comment.article.key})
    return f"{url}#comment-{comment.pk}" if anchor else f"{url}#comments"


def _refused(request: HttpRequest, comment: Comment, error: services.CommentError) -> HttpResponse:
    status = HTTPStatus.CONFLICT if isinstance(error, services.EditTooLate) else 403
    context = {"comment": comment, "refusal": error.message, "back": _article_url(comment)}
    return render(request, "comments/edit.html", context, status=status)


def _own_comment(request: HttpRequest, comment_id: int) -> Comment:
    comment = selectors.comment_get(comment_id=comment_id)
    if comment is None:
        raise Http404("No such comment.")
    return comment


def _edit_page(
    request: HttpRequest, comment: Comment, form: CommentEditForm, status: int = 200
) -> HttpResponse:
    context = {
        "comment": comment,
        "form": form,
        "until": services.comment_edit_deadline(comment),
        "back": _article_url(comment),
    }
    return render(request, "comments/edit.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def comment_edit(request: HttpRequest, comment_id: int) -> HttpResponse:
    """Show the author's comment in a form (GET) and save the edit (POST)."""
    comment = _own_comment(request, comment_id)
    token = edit_tokens(request).get(comment.pk, "")
    if request.method != "POST":
        if not token:
            return _refused(request, comment, services.EditNotAllowed(NOT_YOURS))
        if comment.pk not in editable_ids(request):
            return _refused(request, comment, services.EditTooLate(TOO_LATE, code="closed"))
        return _edit_page(request, comment, CommentEditForm(instance=comment))
    form = CommentEditForm(request.POST)
    if not form.is_valid():
        return _edit_page(request, comment, form, status=HTTPStatus.BAD_REQUEST)
    try:
        services.comment_author_edit(comment_id=comment.pk, token=token, changes=form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return _edit_page(request, comment, form, status=HTTPStatus.BAD_REQUEST)
    except (services.EditNotAllowed, services.EditTooLate) as error:
        return _refused(request, comment, error)
    messages.success(request, EDITED)
    return HttpResponseRedirect(_article_url(comment))


@never_cache
@require_POST
def comment_delete(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = _own_comment(request, comment_id)
    tokens = edit_tokens(request)
    try:
        services.comment_author_delete(comment_id=comment.pk, token=tokens.get(comment.pk, ""))
    except (services.EditNotAllowed, services.EditTooLate) as error:
        return _refused(request, comment, error)
    messages.success(request, DELETED)
    response = HttpResponseRedirect(_article_url(comment, anchor=False))
    edit_tokens_store(response, {k: v for k, v in tokens.items() if k != comment.pk})
    return response
