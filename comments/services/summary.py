"""The dashboard's daily summary: a ModerationDay row per day, recomputed from that day's
comments and audit events, each read along an index on ``created_at``.

Beat refreshes today, yesterday and the days whose comments were decided since the last
refresh; ``manage.py moderation_summary`` backfills. The dashboard reads only these rows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, Max, OuterRef, QuerySet
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


def _first_decisions(start: datetime, end: datetime) -> list[tuple[float, bool]]:
    """Return (seconds since submission, by a moderator) of each comment's first decision
    out of pending made in the range."""
    earlier = ModerationEvent.objects.filter(
        comment=OuterRef("comment"), to_status__in=DECIDED, created_at__lt=OuterRef("created_at")
    )
    firsts = _events(start, end).filter(from_status=Status.PENDING, to_status__in=DECIDED)
    rows = firsts.exclude(Exists(earlier)).values_list("created_at", "comment__created_at", "actor")
    return [(max(0.0, (at - sent).total_seconds()), who is not None) for at, sent, who in rows]


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
    decisions = _first_decisions(start, end)
    by_moderators = [seconds for seconds, human in decisions if human]
    every = [seconds for seconds, _ in decisions]
    spam, approved = _reversals(start, end)
    values: dict[str, object] = {
        "outcomes": _outcomes(start, end),
        "decided": len(every),
        "decision_p50": percentile(every, 50),
        "decision_p95": percentile(every, 95),
        "decided_by_moderators": len(by_moderators),
        "moderator_p50": percentile(by_moderators, 50),
        "moderator_p95": percentile(by_moderators, 95),
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
    """Refresh today, yesterday and every day whose comments were decided since the last
    refresh (an old comment approved today changes its own day's outcomes)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = {today, today - timedelta(days=1)}
    last = ModerationDay.objects.aggregate(last=Max("refreshed_at"))["last"]
    if last is not None:
        days |= _days_decided_since(last - REFRESH_OVERLAP)
    return moderation_days_refresh(days=days, now=now)


def moderation_days_refresh(*, days: Iterable[date], now: datetime | None = None) -> list[date]:
    """Recompute the summary rows of ``days``, oldest first; return them."""
    done = sorted(set(days))
    for day in done:
        moderation_day_refresh(day=day, now=now)
    return done
