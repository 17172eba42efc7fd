"""Reads of the moderators' dashboard: the last days' summary rows, never the comments
table itself (only the capped status counts, along the status index)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from comments.models import Comment, ModerationDay

DAYS = 30
OUTCOMES = [
    (Comment.Status.APPROVED, "s-approved"),
    (Comment.Status.PENDING, "s-pending"),
    (Comment.Status.SPAM, "s-spam"),
    (Comment.Status.TRASH, "s-trash"),
]


@dataclass
class DashboardDays:
    days: list[date]
    rows: list[ModerationDay | None]
    refreshed_at: datetime | None

    def column(self, name: str) -> list[float | None]:
        return [getattr(row, name) if row else None for row in self.rows]

    def outcome(self, status: str) -> list[float | None]:
        return [row.outcomes.get(status, 0) if row else None for row in self.rows]

    def total(self, name: str) -> int:
        return sum(int(v or 0) for v in self.column(name))


def dashboard_days(*, today: date | None = None, days: int = DAYS) -> DashboardDays:
    """Return the summary of the last ``days`` days (None for a day never summarised)."""
    today = today or timezone.localdate()
    wanted = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    found = {
        row.day: row for row in ModerationDay.objects.filter(day__gte=wanted[0], day__lte=today)
    }
    rows = [found.get(day) for day in wanted]
    refreshed = max((row.refreshed_at for row in found.values()), default=None)
    return DashboardDays(days=wanted, rows=rows, refreshed_at=refreshed)


def actions_by_moderator(summary: DashboardDays) -> list[tuple[str, Counter[str]]]:
    """Return each moderator's actions over the days, most active first."""
    by_id: dict[int, Counter[str]] = {}
    for row in summary.rows:
        for user_id, actions in (row.actions if row else {}).items():
            by_id.setdefault(int(user_id), Counter()).update(actions)
    names = dict(get_user_model().objects.filter(pk__in=by_id).values_list("pk", "username"))
    named = [(names.get(pk, f"user {pk} (deleted)"), counts) for pk, counts in by_id.items()]
    return sorted(named, key=lambda item: (-item[1].total(), item[0]))


def reversal_rate(summary: DashboardDays) -> float | None:
    """Return the share of the checks' verdicts that moderators overturned (None: none)."""
    checked = summary.total("checked")
    reversed_ = summary.total("reversed_spam") + summary.total("reversed_approved")
    return reversed_ / checked if checked else None
