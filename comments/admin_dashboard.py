"""The moderators' dashboard in admin: how the last 30 days went, as charts drawn on the
server (SVG) from the daily summary, plus the queues' sizes now.

The charts and tables change only when beat refreshes the summary (every 5 minutes), so
each process draws them once per state of the summary rows and reuses the HTML: a page
view reads the 30 rows and two capped counts (one statement), and renders the admin around.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from comments import charts, dashboard
from comments.admin_queue import moderator_required
from comments.models import ModerationDay
from reex.admin import ReadOnlyAdmin

SUMMARY_TEMPLATE = "admin/comments/_moderation_dashboard_summary.html"
# States of the summary kept drawn per process (a refresh makes a new one every 5 minutes).
DRAWN_KEPT = 4


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


Moderators = list[tuple[str, Counter[str]]]


class _Drawn:
    """The summary's charts and tables as HTML, by the digest of what they are drawn from."""

    def __init__(self, kept: int) -> None:
        self.kept = kept
        self.html: OrderedDict[str, SafeString] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> SafeString | None:
        with self.lock:
            return self.html.get(key)

    def put(self, key: str, html: SafeString) -> None:
        with self.lock:
            self.html[key] = html
            while len(self.html) > self.kept:
                self.html.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.html.clear()


drawn = _Drawn(DRAWN_KEPT)


def summary_html(summary: dashboard.DashboardDays) -> SafeString:
    """Return the charts and tables of ``summary``, drawn only if not drawn already from
    the very same rows (in the same language and time zone).

    The moderators' names are read when drawing: a renamed moderator shows under the new
    name from the next refresh of the summary on (each changes its rows' refreshed_at).
    """
    key = summary.fingerprint(get_language(), timezone.get_current_timezone_name())
    html = drawn.get(key)
    if html is None:
        html = _draw(summary, dashboard.actions_by_moderator(summary))
        drawn.put(key, html)
    return html


def _draw(summary: dashboard.DashboardDays, moderators: Moderators) -> SafeString:
    items = [(name, counts.total()) for name, counts in moderators]
    names = sorted({action for _, counts in moderators for action in counts})
    context = {
        "summary": summary,
        "table": [(day, _cells(row)) for day, row in zip(summary.days, summary.rows, strict=True)],
        "charts": _charts(summary),
        "moderators": moderators,
        "moderators_chart": charts.horizontal_bars(
            "moderators", "Actions per moderator, last 30 days", items
        ),
        "action_names": names,
        "moderator_rows": [(name, [counts[a] for a in names]) for name, counts in moderators],
        "days": dashboard.DAYS,
    }
    return mark_safe(render_to_string(SUMMARY_TEMPLATE, context))  # noqa: S308 (a template)


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
        rate = dashboard.reversal_rate(summary)
        context = {
            **self.admin_site.each_context(request),
            "title": "Moderation dashboard",
            "opts": self.model._meta,
            "summary_html": summary_html(summary),
            "decided_by_moderators": summary.total("decided_by_moderators"),
            "reversal_rate": NONE if rate is None else f"{rate:.1%}",
            "counts": dashboard.queue_counts(),
            "days": dashboard.DAYS,
        }
        return TemplateResponse(request, "admin/comments/moderation_dashboard.html", context)
