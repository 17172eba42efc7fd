"""The moderators' queue page in admin: queues to clear with one click or one key, the
author's history beside a comment, and the actions every comment's page offers too.

Every action is a moderation service call (one audit event each) and needs *Can moderate
comments*; the admin's login and staff check come first. With JavaScript the page acts
by fetch and updates the row; without, each button is a form that posts and comes back.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from comments import queues, services
from comments.models import Comment, ModerationEvent, ModerationQueue
from comments.queue_ban import QueueBanForm, ban_errors, ban_message, queue_ban
from comments.selectors import comment_flag_counts, status_counts_shown
from reex.pagination import EstimatedCountPaginator

PER_PAGE = 20
DONE = {
    "approve": "Approved",
    "ham": "Marked not spam",
    "spam": "Marked spam",
    "trash": "Trashed",
    "restore": "Restored",
    "undo": "Undone",
}


def moderator_required(request: HttpRequest) -> None:
    if not request.user.has_perm("comments.moderate_comment"):
        raise PermissionDenied


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _back(request: HttpRequest, **params: object) -> str:
    """Return the page the form came from (``next``), with ``params`` added to its query."""
    target = str(request.POST.get("next") or "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("admin:comments_moderationqueue_changelist")
    if not params:
        return target
    parts = urlsplit(target)
    kept = [p for p in parts.query.split("&") if p and p.split("=")[0] not in params]
    query = "&".join([*kept, urlencode(params)])
    return urlunsplit(parts._replace(query=query))


def row_context(
    request: HttpRequest, comment: Comment, reports: dict[str, int] | None = None, **extra: Any
) -> dict[str, Any]:
    """Return what a queue row's template needs: the comment, its open reports by reason,
    its actions, where to post."""
    return {
        "comment": comment,
        "reports": sorted((reports or {}).items()),
        "reported": sum((reports or {}).values()),
        "actions": queues.comment_row_actions(status=comment.status, reported=bool(reports)),
        "next": request.POST.get("next") or request.get_full_path(),
        **extra,
    }


def rows_context(request: HttpRequest, comments: list[Comment]) -> list[dict[str, Any]]:
    """Return the rows of a page, with their open reports read in one query."""
    reports = comment_flag_counts(comment_ids=[comment.pk for comment in comments])
    return [row_context(request, c, reports.get(c.pk)) for c in comments]


@admin.register(ModerationQueue)
class ModerationQueueAdmin(admin.ModelAdmin):
    """The queue page (in place of a change list) and the endpoints its rows post to."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("comments.moderate_comment")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        name = "comments_moderationqueue"
        return [
            path("", wrap(require_GET(self.queue_view)), name=f"{name}_changelist"),
            path("<int:pk>/act/", wrap(require_POST(self.act_view)), name=f"{name}_act"),
            path("<int:pk>/undo/", wrap(require_POST(self.undo_view)), name=f"{name}_undo"),
            path("<int:pk>/ban/", wrap(self.ban_view), name=f"{name}_ban"),
            path(
                "<int:pk>/history/",
                wrap(require_GET(self.author_history_view)),
                name=f"{name}_history",
            ),
        ]

    def queue_view(self, request: HttpRequest) -> TemplateResponse:
        moderator_required(request)
        slug = request.GET.get("queue", queues.DEFAULT_QUEUE)
        if slug not in queues.QUEUES:
            slug = queues.DEFAULT_QUEUE
        paginator = EstimatedCountPaginator(queues.queue_comments(queue=slug), PER_PAGE)
        page = paginator.get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Moderation queue",
            "opts": self.model._meta,
            "queues": queues.QUEUES.values(),
            "queue": queues.QUEUES[slug],
            "counts": status_counts_shown(),
            "reported_count": queues.reported_count(),
            "page": page,
            "rows": rows_context(request, list(page)),
            "done": self._done(request),
            "keys": KEYS,
        }
        return TemplateResponse(request, "admin/comments/moderation_queue.html", context)

    def _done(self, request: HttpRequest) -> ModerationEvent | None:
        """The event a form post just made (``?done=<event id>``), if it can be undone."""
        event_id = request.GET.get("done", "")
        if not event_id.isdigit():
            return None
        event = ModerationEvent.objects.select_related("comment").filter(pk=event_id).first()
        if event is None:
            return None
        return queues.comment_undoable_event(comment=event.comment, user=request.user)

    def act_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        moderator_required(request)
        action = str(request.POST.get("action", ""))
        if action not in services.MODERATOR_ACTIONS:
            return self._refused(request, "Unknown action.", HTTPStatus.BAD_REQUEST)
        comment = get_object_or_404(Comment.objects.select_related("article"), pk=pk)
        before = comment.status
        try:
            comment = services.comment_moderator_action(
                comment=comment, action=action, actor=request.user
            )
        except services.InvalidTransition as error:
            return self._refused(request, error.message, HTTPStatus.CONFLICT)
        event = None
        if comment.status != before:
            event = queues.comment_last_decision(comment=comment)
        return self._acted(request, comment, event, DONE[action])

    def undo_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        moderator_required(request)
        event_id = str(request.POST.get("event", ""))
        if not event_id.isdigit():
            return self._refused(request, "Say which decision to undo.", HTTPStatus.BAD_REQUEST)
        comment = get_object_or_404(Comment.objects.select_related("article"), pk=pk)
        try:
            comment = services.comment_decision_undo(
                comment=comment, event_id=int(event_id), actor=request.user
            )
        except services.InvalidTransition as error:
            return self._refused(request, error.message, HTTPStatus.CONFLICT)
        return self._acted(request, comment, None, DONE["undo"])

    def ban_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        moderator_required(request)
        if not request.user.has_perm("comments.add_ban"):
            raise PermissionDenied
        comment = get_object_or_404(Comment.objects.select_related("article"), pk=pk)
        data = request.POST if request.method == "POST" else None
        form = QueueBanForm(data, comment=comment)
        if request.method != "POST" or not form.is_valid():
            return self._ban_form(request, form)
        before = comment.status
        try:
            ban, comment = queue_ban(form=form, actor=request.user)
        except ValidationError as error:
            for field, errors in ban_errors(error).items():
                for message in errors:
                    form.add_error(field, message)
            return self._ban_form(request, form)
        event = None
        if comment.status != before:
            event = queues.comment_last_decision(comment=comment)
        message = ban_message(ban, comment, spam=bool(form.cleaned_data["spam"]))
        return self._acted(request, comment, event, message=message)

    def _ban_form(self, request: HttpRequest, form: QueueBanForm) -> HttpResponse:
        status = HTTPStatus.BAD_REQUEST if form.is_bound else HTTPStatus.OK
        if wants_json(request):
            return JsonResponse(
                {"detail": "Correct the ban.", "errors": form.errors}, status=status
            )
        context = {
            "form": form,
            "comment": form.comment,
            "fragment": bool(request.GET.get("fragment")),
            "next": request.POST.get("next") or request.GET.get("next", ""),
        }
        if not context["fragment"]:
            context |= {
                **self.admin_site.each_context(request),
                "title": f"Ban {form.comment.author_name}",
                "opts": self.model._meta,
            }
        template = "_queue_ban_form.html" if context["fragment"] else "queue_ban.html"
        return TemplateResponse(request, f"admin/comments/{template}", context, status=status)

    def _acted(
        self,
        request: HttpRequest,
        comment: Comment,
        event: ModerationEvent | None,
        done: str = "",
        message: str = "",
    ) -> HttpResponse:
        message = message or f"{done}: the comment by {comment.author_name}."
        if not wants_json(request):
            self.message_user(request, message, messages.SUCCESS)
            return HttpResponseRedirect(_back(request, done=event.pk) if event else _back(request))
        context = rows_context(request, [comment])[0] | {"undo_event": event}
        row = render_to_string("admin/comments/_queue_row.html", context, request=request)
        return JsonResponse(
            {
                "id": comment.pk,
                "status": comment.status,
                "status_label": comment.get_status_display(),
                "event": event.pk if event else None,
                "message": message,
                "row": row,
            }
        )

    def _refused(self, request: HttpRequest, message: str, status: int) -> HttpResponse:
        if wants_json(request):
            return JsonResponse({"detail": message}, status=status)
        self.message_user(request, message, messages.ERROR)
        return HttpResponseRedirect(_back(request))

    def author_history_view(self, request: HttpRequest, pk: int) -> TemplateResponse:
        moderator_required(request)
        comment = get_object_or_404(Comment.objects.select_related("article"), pk=pk)
        history = queues.author_history(comment=comment)
        if request.GET.get("fragment"):
            template = "admin/comments/_author_history.html"
            return TemplateResponse(request, template, {"history": history})
        context = {
            **self.admin_site.each_context(request),
            "title": f"History of {comment.author_name}",
            "opts": self.model._meta,
            "history": history,
        }
        return TemplateResponse(request, "admin/comments/author_history.html", context)


KEYS = [
    ("j", "next comment"),
    ("k", "previous comment"),
    ("a", "approve (on spam: not spam)"),
    ("s", "mark spam"),
    ("d", "move to trash"),
    ("r", "restore from trash"),
    ("u", "undo your last action"),
    ("b", "ban the author (a form: address or IP, how long, why)"),
    ("h", "show the author's history"),
    ("?", "show or hide this list"),
]


def comment_page_context(request: HttpRequest, object_id: str) -> dict[str, Any]:
    """Return the moderation buttons of a comment's own admin page (none without the
    permission)."""
    comment = Comment.objects.filter(pk=object_id).first() if object_id.isdigit() else None
    if comment is None or not request.user.has_perm("comments.moderate_comment"):
        return {}
    return {
        "moderation_actions": queues.comment_row_actions(status=comment.status),
        "undo_event": queues.comment_undoable_event(comment=comment, user=request.user),
    }
