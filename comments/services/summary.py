"""The dashboard's daily summary: a ModerationDay row per day, recomputed from that day's
comments and audit events, each read along an index on ``created_at``.

Beat recomputes the days since its last refresh and recounts the outcomes of the days
whose comments were decided since; ``manage.py moderation_summary`` backfills. The
dashboard reads only these rows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    QuerySet,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from comments.models import Comment, ModerationDay, ModerationEvent

Status = Comment.Status
DECIDED = [Status.APPROVED, Status.SPAM, Status.TRASH]
# Events committed late (a long transaction) are still seen by the next refresh.
REFRESH_OVERLAP = timedelta(minutes=10)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Return the start of ``day`` and of the next, in the site's time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def percentile(values: list[float], q: float) -> float | None:
    """Return the nearest-rank ``q`` percentile (0-100) of ``values``; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _events(start: datetime, end: datetime) -> QuerySet[ModerationEvent]:
    return ModerationEvent.objects.filter(created_at__gte=start, created_at__lt=end)


def _outcomes(start: datetime, end: datetime) -> dict[str, int]:
    arrived = Comment.objects.filter(created_at__gte=start, created_at__lt=end).order_by()
    rows = arrived.values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def _first_decisions(start: datetime, end: datetime) -> QuerySet[Any, Any]:
    """Return (who, wait) of each comment's first decision out of pending made in the range:
    the moderator (None: the checks) and the time since submission.

    A check is a comment's first event, so only the moderators' decisions (a few) are
    compared with the comment's earlier events; apart, each half keeps a plain plan.
    """
    earlier = ModerationEvent.objects.filter(
        comment=OuterRef("comment"), to_status__in=DECIDED, created_at__lt=OuterRef("created_at")
    )
    wait = ExpressionWrapper(F("created_at") - F("comment__created_at"), DurationField())
    leaving = _events(start, end).filter(from_status=Status.PENDING, to_status__in=DECIDED)
    leaving = leaving.annotate(who=F("actor"), wait=wait).order_by()
    checks = leaving.filter(action="check").values_list("who", "wait")
    others = leaving.exclude(action="check").exclude(Exists(earlier)).values_list("who", "wait")
    return checks.union(others, all=True)


# PostgreSQL sums the waits up itself: turning a busy day's rows (tens of thousands) into
# Python datetimes cost seconds. percentile_disc is the nearest rank, as percentile() is.
_WAITS_SQL = """SELECT who IS NOT NULL, COUNT(*),
    percentile_disc(0.5) WITHIN GROUP (ORDER BY wait),
    percentile_disc(0.95) WITHIN GROUP (ORDER BY wait)
    FROM ({decisions}) AS firsts GROUP BY GROUPING SETS ((who IS NOT NULL), ())"""


def _decision_waits(start: datetime, end: datetime) -> dict[str, object]:
    """Return how many first decisions the range holds and how long after submission they
    came (median and 95th percentile, in seconds): all of them, and the moderators'."""
    firsts = _first_decisions(start, end)
    if connection.vendor == "postgresql":
        rows = _waits_summed(firsts)
    else:
        rows = _waits_counted([(a, w.total_seconds()) for a, w in firsts])
    found = {human: (n, p50, p95) for human, n, p50, p95 in rows}
    every, humans = found.get(None, (0, None, None)), found.get(True, (0, None, None))
    return {
        "decided": every[0],
        "decision_p50": every[1],
        "decision_p95": every[2],
        "decided_by_moderators": humans[0],
        "moderator_p50": humans[1],
        "moderator_p95": humans[2],
    }


def _waits_summed(firsts: QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
    sql, params = firsts.query.sql_with_params()
    # The inner statement is the ORM's, its values still parameters.
    seconds = f"SELECT who, EXTRACT(EPOCH FROM wait) AS wait FROM ({sql}) AS d"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(_WAITS_SQL.format(decisions=seconds), params)
        return [(h, n, _float(p50), _float(p95)) for h, n, p50, p95 in cursor.fetchall()]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _waits_counted(rows: list[tuple[Any, float]]) -> list[tuple[Any, ...]]:
    """The same sums as _WAITS_SQL, in Python (SQLite)."""
    groups: dict[Any, list[float]] = {None: [w for _, w in rows]}
    groups[True] = [w for actor, w in rows if actor is not None]
    groups[False] = [w for actor, w in rows if actor is None]
    return [(k, len(v), percentile(v, 50), percentile(v, 95)) for k, v in groups.items() if v]


def _reversals(start: datetime, end: datetime) -> tuple[int, int]:
    """Count moderators' first decisions in the range that overturned the checks' verdict:
    spam approved, and approved marked spam."""
    earlier = ModerationEvent.objects.filter(
        comment=OuterRef("comment"), actor__isnull=False, created_at__lt=OuterRef("created_at")
    )
    verdict = ModerationEvent.objects.filter(
        comment=OuterRef("comment"), action="check", to_status=OuterRef("from_status")
    )
    firsts = _events(start, end).filter(actor__isnull=False).exclude(Exists(earlier))
    firsts = firsts.filter(Exists(verdict))
    spam = firsts.filter(from_status=Status.SPAM, to_status=Status.APPROVED).count()
    approved = firsts.filter(from_status=Status.APPROVED, to_status=Status.SPAM).count()
    return spam, approved


def _actions(start: datetime, end: datetime) -> dict[str, dict[str, int]]:
    rows = _events(start, end).filter(actor__isnull=False).order_by()
    counted: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows.values("actor", "action").annotate(n=Count("id")):
        counted[str(row["actor"])][row["action"] or "other"] = row["n"]
    return dict(counted)


def held_count() -> int:
    """Return how many comments wait for a moderator (held by the checks)."""
    return Comment.objects.filter(status=Status.PENDING, checked_at__isnull=False).count()


def moderation_day_refresh(*, day: date, now: datetime | None = None) -> ModerationDay:
    """Recompute the summary row of ``day``; the queue size only while the day lasts."""
    now = now or timezone.now()
    start, end = day_bounds(day)
    spam, approved = _reversals(start, end)
    values: dict[str, object] = {
        "outcomes": _outcomes(start, end),
        **_decision_waits(start, end),
        "checked": _events(start, end).filter(action="check", to_status__in=DECIDED).count(),
        "reversed_spam": spam,
        "reversed_approved": approved,
        "actions": _actions(start, end),
        "refreshed_at": now,
    }
    if start <= now < end:
        values["queue_size"] = held_count()
    row, _ = ModerationDay.objects.update_or_create(day=day, defaults=values)
    return row


def _days_decided_since(since: datetime) -> set[date]:
    """Return the days on which the comments decided since ``since`` arrived."""
    events = ModerationEvent.objects.filter(created_at__gte=since).order_by()
    days = events.annotate(day=TruncDate("comment__created_at")).values_list("day", flat=True)
    return set(days.distinct())


def moderation_summary_refresh(*, now: datetime | None = None) -> list[date]:
    """Bring the summary up to date; return the days refreshed.

    Events are only ever added at the time they happen, so the days since the last
    refresh (the first time: yesterday and today) are recomputed whole; a decision on an
    older comment changes only its own day's outcomes, so those days get their outcomes
    recounted.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    last = ModerationDay.objects.aggregate(last=Max("refreshed_at"))["last"]
    since = None if last is None else last - REFRESH_OVERLAP
    first = today - timedelta(days=1) if since is None else min(timezone.localdate(since), today)
    whole = {first + timedelta(days=n) for n in range((today - first).days + 1)}
    recounted = set() if since is None else _days_decided_since(since) - whole
    for day in sorted(recounted):
        start, end = day_bounds(day)
        defaults = {"outcomes": _outcomes(start, end), "refreshed_at": now}
        ModerationDay.objects.update_or_create(day=day, defaults=defaults)
    return sorted(moderation_days_refresh(days=whole, now=now) + sorted(recounted))


def moderation_days_refresh(*, days: Iterable[date], now: datetime | None = None) -> list[date]:
    """Recompute the summary rows of ``days``, oldest first; return them."""
    done = sorted(set(days))
    for day in done:
        moderation_day_refresh(day=day, now=now)
    return done
