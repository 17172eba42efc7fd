"""The moderators' dashboard in admin: how the last 30 days went, as charts drawn on the
server (SVG) from the daily summary, plus the queues' sizes now."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from comments import charts, dashboard
from comments.admin_queue import moderator_required
from comments.models import ModerationDay
from comments.selectors import status_counts_shown
from reex.admin import ReadOnlyAdmin


def _charts(summary: dashboard.DashboardDays) -> dict[str, SafeString]:
    labels = [day.strftime("%b %d") for day in summary.days]
    outcomes = [
        charts.Series(css, status.label, summary.outcome(status.value))
        for status, css in dashboard.OUTCOMES
    ]
    waits = [
        charts.Series("s-p50", "median", summary.column("moderator_p50")),
        charts.Series("s-p95", "95th percentile", summary.column("moderator_p95")),
    ]
    every = [
        charts.Series("s-p50", "median", summary.column("decision_p50")),
        charts.Series("s-p95", "95th percentile", summary.column("decision_p95")),
    ]
    reversals = [
        charts.Series("s-spam", "spam approved", summary.column("reversed_spam")),
        charts.Series("s-approved", "approved marked spam", summary.column("reversed_approved")),
    ]
    queue = [charts.Series("s-queue", "held", summary.column("queue_size"))]
    return {
        "outcomes": charts.stacked_bars(
            "outcomes", "Comments per day by outcome", labels, outcomes
        ),
        "moderator_wait": charts.duration_lines(
            "wait", "Time from submission to a moderator's decision", labels, waits
        ),
        "decision_wait": charts.duration_lines(
            "decision", "Time from submission to any decision", labels, every
        ),
        "reversals": charts.stacked_bars(
            "reversals", "Moderators reversing the checks", labels, reversals
        ),
        "queue": charts.count_lines("queue", "Held comments at the end of each day", labels, queue),
    }


NONE = "\N{EN DASH}"


def _wait(seconds: float | None) -> str:
    return NONE if seconds is None else charts.duration(seconds)


def _cells(row: ModerationDay | None) -> list[object]:
    """Return a summary row as the dashboard's table of numbers shows it."""
    if row is None:
        return []
    outcomes = [row.outcomes.get(status.value, 0) for status, _ in dashboard.OUTCOMES]
    queue = NONE if row.queue_size is None else row.queue_size
    return [
        *outcomes,
        row.decided,
        _wait(row.moderator_p50),
        _wait(row.moderator_p95),
        row.checked,
        row.reversed_spam + row.reversed_approved,
        queue,
    ]


@admin.register(ModerationDay)
class ModerationDashboardAdmin(ReadOnlyAdmin):
    """The dashboard page, in place of the summary rows' change list."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("comments.moderate_comment")

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(require_GET(self.dashboard_view))
        return [path("", view, name="comments_moderationday_changelist")]

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        moderator_required(request)
        summary = dashboard.dashboard_days()
        moderators = dashboard.actions_by_moderator(summary)
        items = [(name, counts.total()) for name, counts in moderators]
        rate = dashboard.reversal_rate(summary)
        names = sorted({action for _, counts in moderators for action in counts})
        context = {
            **self.admin_site.each_context(request),
            "title": "Moderation dashboard",
            "opts": self.model._meta,
            "summary": summary,
            "table": [
                (day, _cells(row)) for day, row in zip(summary.days, summary.rows, strict=True)
            ],
            "charts": _charts(summary),
            "moderators": moderators,
            "moderators_chart": charts.horizontal_bars(
                "moderators", "Actions per moderator, last 30 days", items
            ),
            "action_names": names,
            "moderator_rows": [(name, [counts[a] for a in names]) for name, counts in moderators],
            "decided_by_moderators": summary.total("decided_by_moderators"),
            "reversal_rate": NONE if rate is None else f"{rate:.1%}",
            "counts": status_counts_shown(),
            "days": dashboard.DAYS,
        }
        return TemplateResponse(request, "admin/comments/moderation_dashboard.html", context)
