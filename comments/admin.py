"""The moderators' screens. Every status change goes through comments.services."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from comments import admin_dashboard, services, tasks  # noqa: F401 (registers the dashboard)
from comments.admin_queue import comment_page_context
from comments.models import (
    Article,
    Comment,
    FeedState,
    ModerationEvent,
    ModerationWord,
    SpamModelVersion,
)
from comments.selectors import article_list_recent, comment_thread_members, status_counts_shown
from comments.spam import retraining
from reex.admin import ReadOnlyAdmin, ReadOnlyInline
from reex.enqueue import enqueue
from reex.pagination import EstimatedCountPaginator

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

RETRAIN_QUEUED = (
    "Retraining queued. The new version replaces the current one only if it is not worse."
)
FEEDS_POLL_QUEUED = "Feed poll queued: new articles appear here within a minute."
FEEDS_POLL_NOT_QUEUED = "The feed poll could not be queued: the task queue is unreachable."
FEEDS_NOT_SET = "No feeds to poll: set REEX_FEED_URLS."
RETRAIN_NOT_QUEUED = (
    "Retraining could not be queued: the task queue is unreachable. Try again in a few minutes."
)


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "key", "author", "published_at", "comments_open", "approved"]
    list_display += ["pending"]
    # title_wanted: created by a reader's first comment, the title guessed from its URL.
    list_filter = ["comments_open", "title_wanted", "published_at"]
    search_fields = ["key", "title", "url", "author"]
    fields = ["key", "title", "title_wanted", "url", "summary", "image_url", "author"]
    fields += ["published_at", "comments_open"]
    prepopulated_fields = {"key": ["title"]}
    date_hierarchy = "published_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_approved=Count("comments", filter=Q(comments__status=Comment.Status.APPROVED)),
                n_pending=Count("comments", filter=Q(comments__status=Comment.Status.PENDING)),
            )
        )

    def get_urls(self) -> list[URLPattern]:
        poll = self.admin_site.admin_view(require_POST(self.poll_feeds_view))
        return [path("poll-feeds/", poll, name="comments_article_poll_feeds"), *super().get_urls()]

    def poll_feeds_view(self, request: HttpRequest) -> HttpResponseRedirect:
        if not request.user.has_perm("comments.change_article"):
            raise PermissionDenied
        if not settings.REEX_FEED_URLS:
            self.message_user(request, FEEDS_NOT_SET, messages.WARNING)
        elif enqueue(tasks.poll_feeds):
            self.message_user(request, FEEDS_POLL_QUEUED, messages.SUCCESS)
        else:
            self.message_user(request, FEEDS_POLL_NOT_QUEUED, messages.WARNING)
        return HttpResponseRedirect(reverse("admin:comments_article_changelist"))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        can_poll = bool(settings.REEX_FEED_URLS) and request.user.has_perm(
            "comments.change_article"
        )
        context = {**(extra_context or {}), "can_poll_feeds": can_poll}
        return super().changelist_view(request, extra_context=context)  # type: ignore[return-value]

    @admin.display(description="approved", ordering="n_approved")
    def approved(self, article: Any) -> int:
        return int(article.n_approved)

    @admin.display(description="pending", ordering="n_pending")
    def pending(self, article: Any) -> int:
        return int(article.n_pending)


@admin.register(FeedState)
class FeedStateAdmin(ReadOnlyAdmin):
    """Each polled feed: when it was last read and why not (REEX_FEED_URLS sets the list)."""

    list_display = ["url", "last_polled_at", "last_success_at", "last_error"]
    fields = ["url", "last_polled_at", "last_success_at", "last_error", "etag", "modified"]
    search_fields = ["url"]


class ModerationEventInline(ReadOnlyInline):
    model = ModerationEvent
    fields = ["created_at", "who", "action", "from_status", "to_status", "reason"]
    readonly_fields = ["created_at", "who", "action", "from_status", "to_status", "reason"]
    verbose_name = "audit event"
    verbose_name_plural = "audit history"

    @admin.display(description="by")
    def who(self, event: ModerationEvent) -> str:
        return event.actor_label


def _moderator_action(
    name: str, description: str
) -> Callable[[admin.ModelAdmin[Comment], HttpRequest, QuerySet[Comment]], None]:
    """Build a bulk admin action that runs one moderation service per comment."""

    @admin.action(description=description, permissions=["moderate"])
    def action(
        modeladmin: admin.ModelAdmin[Comment], request: HttpRequest, queryset: QuerySet[Comment]
    ) -> None:
        done, refused = 0, 0
        for comment in queryset:
            try:
                services.comment_moderator_action(comment=comment, action=name, actor=request.user)
                done += 1
            except services.InvalidTransition:
                refused += 1
        modeladmin.message_user(request, f"{description}: {done} comment(s).", messages.SUCCESS)
        if refused:
            note = f"{refused} comment(s) skipped: only trashed comments can be restored."
            modeladmin.message_user(request, note, messages.WARNING)

    action.__name__ = f"{name}_selected"
    return action


class RecentArticleListFilter(admin.RelatedFieldListFilter):
    """The article filter offers the most recent articles, not every one of thousands.

    Any article can still be filtered on: its link from the article list or a search by
    article key; the chosen one is offered too.
    """

    OFFERED = 30

    def field_choices(
        self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str | _StrPromise]]:
        chosen = str(self.lookup_val[0] if isinstance(self.lookup_val, list) else "")
        including = int(chosen) if chosen.isdigit() else None
        articles = article_list_recent(limit=self.OFFERED, including=including)
        return [(str(article.pk), str(article)) for article in articles]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = [
        "excerpt",
        "author_name",
        "author_email",
        "article",
        "status",
        "spam_score",
        "reason_list",
        "created_at",
    ]
    list_filter = ["status", ("article", RecentArticleListFilter), "created_at"]
    list_select_related = ["article"]
    search_fields = ["author_name", "author_email", "ip_address", "body", "article__key"]
    search_help_text = "Name, email, IP address, text or article key."
    # WordPress's own default page size; rendering the rows is most of a page view's cost.
    list_per_page = 20
    # At a million comments every page view must stay off whole-table work: newest first
    # along an index (below), no COUNT(*) of the table, and no date hierarchy (its year
    # links scan every row; the date filter does not).
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = [
        _moderator_action("approve", "Approve"),
        _moderator_action("spam", "Mark as spam"),
        _moderator_action("ham", "Not spam (approve)"),
        _moderator_action("trash", "Move to trash"),
        _moderator_action("restore", "Restore from trash"),
    ]
    inlines = [ModerationEventInline]
    fieldsets = [
        (None, {"fields": ["article", "status", "author_name", "author_email", "author_url"]}),
        ("Text", {"fields": ["body", "rendered"]}),
        ("Checks", {"fields": ["spam_score", "reason_list", "checked_at"]}),
        (
            "Origin",
            {
                "fields": [
                    *("ip_address", "user_agent", "created_at", "notify_replies", "kind"),
                    *("import_source", "import_id"),
                ]
            },
        ),
        ("Thread", {"fields": ["parent", "thread"]}),
    ]
    readonly_fields = [
        "article",
        "status",
        "author_name",
        "author_email",
        "author_url",
        "body",
        "rendered",
        "spam_score",
        "reason_list",
        "checked_at",
        "ip_address",
        "user_agent",
        "created_at",
        "notify_replies",
        "kind",
        "import_source",
        "import_id",
        "parent",
        "thread",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_ordering(self, request: HttpRequest) -> list[str]:
        """Newest first, in the order of the index that serves the list.

        The (status, created_at) and (article, status, created_at) indexes give a status's
        or an article's newest comments; without either filter, the primary key does.
        """
        if {"status__exact", "article__id__exact"} & request.GET.keys():
            return ["-created_at", "-id"]
        return ["-id"]

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("comments.moderate_comment")

    def action_checkbox(self, comment: Comment) -> SafeString:
        """The row's selection box, the same markup as Django's, without its widget template
        (rendering a widget per row through the template engine is a large part of a page)."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            comment.pk,
            format_html(_("Select this object for an action - {}"), str(comment)),
        )

    @admin.display(description="reasons")
    def reason_list(self, comment: Comment) -> str:
        return " ".join(str(reason) for reason in comment.reasons)

    @admin.display(description="sanitised rendering")
    def rendered(self, comment: Comment) -> SafeString:
        if not comment.body_html:
            return format_html("<em>{}</em>", "Not sanitised yet (moderation has not run).")
        # body_html is the output of comments.sanitize: the one HTML we render.
        return mark_safe(f'<div class="comment-rendering">{comment.body_html}</div>')  # noqa: S308

    @admin.display(description="thread")
    def thread(self, comment: Comment) -> SafeString:
        members = comment_thread_members(comment=comment)
        rows = (
            (
                "— " * member.depth,
                reverse("admin:comments_comment_change", args=[member.pk]),
                member.author_name,
                member.get_status_display(),
                member.excerpt,
                " (this comment)" if member.pk == comment.pk else "",
            )
            for member in members
        )
        items = format_html_join("", '<li>{}<a href="{}">{}</a> [{}]: {}{}</li>', rows)
        return format_html('<ul class="thread">{}</ul>', items)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        context = {**(extra_context or {}), "status_counts": status_counts_shown()}
        return super().changelist_view(request, extra_context=context)  # type: ignore[return-value]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = {**(extra_context or {}), **comment_page_context(request, object_id)}
        return super().change_view(request, object_id, form_url, extra_context=context)


@admin.register(ModerationWord)
class ModerationWordAdmin(admin.ModelAdmin):
    list_display = ["phrase", "action", "note", "created_at"]
    list_filter = ["action"]
    search_fields = ["phrase", "note"]


@admin.register(ModerationEvent)
class ModerationEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "comment", "who", "action", "from_status", "to_status", "reason"]
    list_filter = ["action", "to_status", "created_at"]
    list_select_related = ["comment", "actor"]
    search_fields = ["comment__author_email", "reason", "rule", "actor__username"]
    date_hierarchy = "created_at"

    @admin.display(description="by")
    def who(self, event: ModerationEvent) -> str:
        return event.actor_label


@admin.register(SpamModelVersion)
class SpamModelVersionAdmin(ReadOnlyAdmin):
    """The spam filter's page: its versions, how moderators judged it, a retrain button."""

    list_display = ["version", "is_current", "created_at", "created_by", "size", "accuracy"]
    list_display_links = None
    fields = ["version", "is_current", "created_at", "created_by", "trained_on", "evaluation"]
    readonly_fields = ["version", "is_current", "created_at", "created_by", "trained_on"]
    readonly_fields += ["evaluation"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SpamModelVersion]:
        return super().get_queryset(request).defer("parameters", "training_rows")

    @admin.display(description="training size")
    def size(self, version: SpamModelVersion) -> int:
        return int(version.trained_on.get("n", 0))

    @admin.display(description="cross-validated recall / precision")
    def accuracy(self, version: SpamModelVersion) -> str:
        result = version.evaluation.get("cross_validation") or {}
        if not result:
            return "-"
        return f"{result['recall']:.1%} / {result['precision']:.1%}"

    def get_urls(self) -> list[URLPattern]:
        retrain = self.admin_site.admin_view(require_POST(self.retrain_view))
        name = "comments_spammodelversion_retrain"
        return [path("retrain/", retrain, name=name), *super().get_urls()]

    def retrain_view(self, request: HttpRequest) -> HttpResponseRedirect:
        if not request.user.has_perm("comments.retrain_spam_filter"):
            raise PermissionDenied
        if enqueue(tasks.retrain_spam_filter, True):
            self.message_user(request, RETRAIN_QUEUED, messages.SUCCESS)
        else:
            self.message_user(request, RETRAIN_NOT_QUEUED, messages.WARNING)
        return HttpResponseRedirect(reverse("admin:comments_spammodelversion_changelist"))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        current = self.get_queryset(request).filter(is_current=True).first()
        context = {
            **(extra_context or {}),
            "current": current,
            "evaluation": (current.evaluation.get("cross_validation") if current else None),
            "reversals": retraining.spam_filter_reversals(),
            "pending_decisions": retraining.decisions_since_current(),
            "retrain_after": settings.REEX_SPAM_RETRAIN_AFTER,
            "can_retrain": request.user.has_perm("comments.retrain_spam_filter"),
        }
        return super().changelist_view(request, extra_context=context)  # type: ignore[return-value]


import comments.admin_bans  # noqa: E402, F401 (bans and reports register themselves)
