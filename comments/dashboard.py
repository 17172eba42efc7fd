"""Reads of the moderators' dashboard: the last days' summary rows, never the comments
table itself (only two capped status counts, along the (status, created_at) index)."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from comments.models import Comment, ModerationDay
from reex.pagination import EstimatedCountPaginator, planner_estimate

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

    def fingerprint(self, *extra: object) -> str:
        """Return a digest of every value the rows hold (and of ``extra``): what is drawn
        from them is the same exactly while the digest is."""
        fields = [f.attname for f in ModerationDay._meta.concrete_fields]
        rows = [[getattr(row, f) for f in fields] if row else None for row in self.rows]
        state = json.dumps([self.days, rows, extra], default=str, sort_keys=True)
        return hashlib.blake2b(state.encode(), digest_size=16).hexdigest()


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


class _Estimates:
    """The planner's row estimates by status, each kept for ``seconds`` (per process)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.kept: dict[str, tuple[float, int]] = {}

    def get(self, status: str, rows: QuerySet[Any, Any]) -> int:
        now = time.monotonic()
        until, estimate = self.kept.get(status, (0.0, 0))
        if until <= now:
            estimate = planner_estimate(rows)
            self.kept[status] = (now + self.seconds, estimate)
        return estimate

    def clear(self) -> None:
        self.kept.clear()


estimates = _Estimates(seconds=60)

# The queues shown above the charts: the only reads of the comments table.
SHOWN_COUNTS = (Comment.Status.PENDING, Comment.Status.SPAM)


def queue_counts() -> dict[str, str]:
    """Return how many comments are pending and in spam now, as the moderators' list shows
    them: exact up to the paginator's bound, "about N" past it (PostgreSQL's estimate,
    asked at most once a minute per process: it moves only as the statistics do).

    Both are counted in one statement, each reading at most bound + 1 entries of the
    (status, created_at) index whatever the table's size; approved and trash, which grow
    with it, are not counted at all.
    """
    bound = EstimatedCountPaginator.EXACT_UP_TO
    shown = {}
    for status, n in capped_counts(SHOWN_COUNTS, up_to=bound).items():
        rows = Comment.objects.filter(status=status).order_by()
        if n <= bound:
            shown[status] = f"{n:,}"
        elif connection.vendor == "postgresql":
            shown[status] = f"about {max(estimates.get(status, rows.values('pk')), n):,}"
        else:  # no planner to ask (SQLite in development): exact
            shown[status] = f"{rows.count():,}"
    return shown


def capped_counts(statuses: Sequence[str], *, up_to: int) -> dict[str, int]:
    """Return how many comments each of ``statuses`` holds, or ``up_to + 1`` for more, in
    one round trip: a ``LIMIT``-ed count per status, side by side."""
    parts: list[str] = []
    params: list[Any] = []
    for status in statuses:
        # Only the indexed column is selected, so that the count reads the index alone.
        rows = Comment.objects.filter(status=status).order_by().values("status")[: up_to + 1]
        sql, more = rows.query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped)")  # noqa: S608 (the ORM's)
        params.extend(more)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        found = cursor.fetchone()
    return {str(status): int(n) for status, n in zip(statuses, found, strict=True)}
