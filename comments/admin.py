"""The moderators' screens. Every status change goes through comments.services."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from comments import selectors, services, tasks
from comments.models import Article, Comment, ModerationEvent, ModerationWord, SpamModelVersion
from comments.spam import retraining
from privacy.admin_actions import PersonalDataAdminMixin, personal_data_actions
from reex.admin import ReadOnlyAdmin, ReadOnlyInline

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "key", "published_at", "comments_open", "approved", "pending"]
    list_filter = ["comments_open", "published_at"]
    search_fields = ["key", "title", "url"]
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

    @admin.display(description="approved", ordering="n_approved")
    def approved(self, article: Any) -> int:
        return int(article.n_approved)

    @admin.display(description="pending", ordering="n_pending")
    def pending(self, article: Any) -> int:
        return int(article.n_pending)


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


class EstimatedCountPaginator(Paginator):
    """Counts a big list without ``COUNT(*)`` over the whole table (PostgreSQL only).

    Unfiltered, the count is the planner's row estimate of the table (``pg_class.reltuples``,
    kept by autovacuum). Filtered, rows are counted exactly up to ``EXACT_UP_TO``; past it
    the planner's estimate for the filtered query is shown. Small tables and other
    databases are counted exactly. The admin shows the number as the list's size and pages
    by it: an estimate may be off by a few percent, so the last page can come up short.
    """

    EXACT_UP_TO = 10_000
    DEFER_FROM = 1_000

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not isinstance(rows, QuerySet) or connections[rows.db].vendor != "postgresql":
            return super().count
        if not rows.query.where and not rows.query.distinct:
            estimate = self._table_estimate(rows)
            if estimate > self.EXACT_UP_TO:
                return estimate
        exact = rows.order_by()[: self.EXACT_UP_TO + 1].count()
        if exact <= self.EXACT_UP_TO:
            return exact
        return max(planner_estimate(rows), exact)

    def page(self, number: int | str) -> Page:
        """Return a page; a deep one reads its ids first, then only its own rows.

        Past ``DEFER_FROM`` rows the OFFSET walks an index for the ids alone (an index-only
        scan of the primary key unfiltered) instead of reading every skipped row.
        """
        rows = self.object_list
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if bottom < self.DEFER_FROM or not isinstance(rows, QuerySet):
            return super().page(number)
        ids = list(rows.values_list("pk", flat=True)[bottom : bottom + self.per_page])
        found = rows.order_by().in_bulk(ids)
        return Page([found[pk] for pk in ids if pk in found], number, self)

    @staticmethod
    def _table_estimate(rows: QuerySet[Any]) -> int:
        with connections[rows.db].cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
                [rows.model._meta.db_table],
            )
            found = cursor.fetchone()
        return int(found[0]) if found and found[0] > 0 else -1


def planner_estimate(rows: QuerySet[Any]) -> int:
    """Return PostgreSQL's planner estimate of how many rows ``rows`` holds (0 if unknown)."""
    plan = rows.order_by().explain(format="json")
    try:
        return int(json.loads(plan)[0]["Plan"]["Plan Rows"])
    except (ValueError, LookupError, TypeError):
        return 0


def status_counts_shown(*, db: str = "default") -> dict[str, str]:
    """Return each status's count as the list shows it: exact, or "about N" past a bound.

    On PostgreSQL a status is counted exactly up to the paginator's bound, and past it
    estimated by the planner: no page view reads every row. Elsewhere, exact.
    """
    if connections[db].vendor != "postgresql":
        return {k: f"{n:,}" for k, n in selectors.comment_status_counts().items()}
    bound = EstimatedCountPaginator.EXACT_UP_TO
    shown = {}
    for status, n in selectors.comment_status_counts(up_to=bound).items():
        if n <= bound:
            shown[status] = f"{n:,}"
        else:
            estimate = max(planner_estimate(Comment.objects.filter(status=status)), n)
            shown[status] = f"about {estimate:,}"
    return shown


class RecentArticleListFilter(admin.RelatedFieldListFilter):
    """The article filter offers the most recent articles, not every one of thousands.

    Any article can still be filtered on: its link from the article list or a search by
    article key; the chosen one is offered too.
    """

    OFFERED = 30

    def field_choices(
        self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str | _StrPromise]]:
        articles = list(Article.objects.order_by("-published_at", "-id")[: self.OFFERED])
        chosen = str(self.lookup_val[0] if isinstance(self.lookup_val, list) else "")
        if chosen.isdigit() and all(article.pk != int(chosen) for article in articles):
            articles += Article.objects.filter(pk=int(chosen))
        return [(str(article.pk), str(article)) for article in articles]


@admin.register(Comment)
class CommentAdmin(PersonalDataAdminMixin, admin.ModelAdmin):
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
        *personal_data_actions(email_field="author_email"),
    ]
    inlines = [ModerationEventInline]
    fieldsets = [
        (None, {"fields": ["article", "status", "author_name", "author_email", "author_url"]}),
        ("Text", {"fields": ["body", "rendered"]}),
        ("Checks", {"fields": ["spam_score", "reason_list", "checked_at"]}),
        ("Origin", {"fields": ["ip_address", "user_agent", "created_at", "notify_replies"]}),
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
        """The row's selection box, the same markup as Django's, without its widget template.

        Rendering 50 checkbox widgets through the template engine was a third of the
        list's rows' cost.
        """
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
        root_id = comment.root_id or comment.pk
        members = Comment.objects.filter(Q(pk=root_id) | Q(root_id=root_id)).order_by(
            "created_at", "id"
        )
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
        tasks.retrain_spam_filter.delay(force=True)
        note = (
            "Retraining queued. The new version replaces the current one only if it is not worse."
        )
        self.message_user(request, note, messages.SUCCESS)
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
