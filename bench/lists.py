"""The moderators' lists at scale: the admin comment list and the moderation queue API.

Each view is timed over HTTP against the running stack (logged in as a moderator), and
run once more in process (``manage.py shell``) to record the SQL it sends, so that a
whole-table ``COUNT(*)`` shows up mechanically, not by reading a plan.
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from bench.stats import cpu_us_per_request, median, percentile
from bench.web import CLK_TCK, worker_ticks
from devstack.stack import Stack

ADMIN = "/admin/comments/comment/"
QUEUE = "/api/v1/moderation/comments/"
QUEUE_PAGE = "/admin/comments/moderationqueue/"
MODERATOR = "bench-moderator"
SESSION_MARKER = "BENCH_SESSION"
REQUESTS = 20
WARM = 2
# A page far enough in that an OFFSET walks past 50,000 rows (20 to an admin page).
DEEP_PAGE = 2500
TABLE = "comments_comment"


@dataclass(frozen=True)
class ListView:
    key: str
    label: str
    path: str
    # Follow the first page's cursor link and time the page it leads to.
    next_page: bool = False


VIEWS = (
    ListView("admin", "admin list, page 1", ADMIN),
    ListView("admin_deep", f"admin list, page {DEEP_PAGE}", f"{ADMIN}?p={DEEP_PAGE}"),
    ListView("admin_pending", "admin list, pending, page 1", f"{ADMIN}?status__exact=pending"),
    ListView("admin_approved", "admin list, approved, page 1", f"{ADMIN}?status__exact=approved"),
    ListView(
        "admin_approved_deep",
        f"admin list, approved, page {DEEP_PAGE}",
        f"{ADMIN}?status__exact=approved&p={DEEP_PAGE}",
    ),
    ListView("queue_pending", "queue API, pending, first page", f"{QUEUE}?status=pending"),
    ListView(
        "queue_pending_next", "queue API, pending, cursor page", f"{QUEUE}?status=pending", True
    ),
    ListView("queue", "queue API, all, first page", QUEUE),
    ListView("queue_next", "queue API, all, cursor page", QUEUE, True),
    ListView("page_pending", "queue page, pending", f"{QUEUE_PAGE}?queue=pending"),
    ListView("page_recent", "queue page, recent", f"{QUEUE_PAGE}?queue=recent"),
    ListView(
        "page_recent_deep",
        f"queue page, recent, page {DEEP_PAGE}",
        f"{QUEUE_PAGE}?queue=recent&page={DEEP_PAGE}",
    ),
    ListView("dashboard", "moderation dashboard", "/admin/comments/moderationday/"),
)

_COUNT = re.compile(r"\bcount\s*\(", re.IGNORECASE)
_WHERE_OR_LIMIT = re.compile(r"\b(where|limit)\b", re.IGNORECASE)


def unfiltered_counts(statements: list[str], table: str = TABLE) -> list[str]:
    """Return the statements that count rows of ``table`` with neither WHERE nor LIMIT.

    Such a count (``COUNT(*)``, or a ``GROUP BY`` with ``COUNT``) reads every row of the
    table. A count bounded by a LIMIT, or over a filtered set, is not one.
    """
    quoted = re.compile(rf'(?<![\w"])"?{re.escape(table)}"?(?![\w"])')
    return [
        sql
        for sql in statements
        if _COUNT.search(sql) and quoted.search(sql) and not _WHERE_OR_LIMIT.search(sql)
    ]


def timing_summary(milliseconds: list[float]) -> dict[str, float]:
    return {
        "median_ms": median(milliseconds),
        "p95_ms": percentile(milliseconds, 95),
        "max_ms": max(milliseconds),
    }


# --- run inside Django (manage.py shell -c) ------------------------------------------


def capture(out: str) -> None:
    """Log a moderator in, run every view once in process, write its SQL to ``out``.

    Print the session cookie's value (``BENCH_SESSION <value>``) for the HTTP timings.
    """
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    summarise()
    user, _ = User.objects.get_or_create(username=MODERATOR, defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Moderators"))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    captured: dict[str, dict[str, Any]] = {}
    for view in VIEWS:
        path = _follow(client, view.path) if view.next_page else view.path
        with CaptureQueriesContext(connection) as queries:
            status = client.get(path).status_code
        statements = [query["sql"] for query in queries.captured_queries]
        captured[view.key] = {"path": path, "status": status, "sql": statements}
    Path(out).write_text(json.dumps(captured, indent=1))
    sys.stdout.write(f"{SESSION_MARKER} {client.cookies['sessionid'].value}\n")


def summarise() -> None:
    """Fill the dashboard's last 30 days of summary, as beat would have (the benchmark's
    stack runs no beat): the dashboard is timed with its charts, not as an empty page."""
    from django.utils import timezone

    from comments.dashboard import DAYS
    from comments.services import moderation_days_refresh

    today = timezone.localdate()
    moderation_days_refresh(days=[today - timedelta(days=n) for n in range(DAYS)])


def _follow(client: Any, path: str) -> str:
    """Return the path of the cursor page the first page at ``path`` links to."""
    link = client.get(path).json().get("next")
    if not link:
        return path  # one page only: time the first page again
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


# --- run in the benchmark's process ----------------------------------------------------


def measure(stack: Stack, *, out: Path, requests: int = REQUESTS) -> list[dict[str, Any]]:
    """Time every view over HTTP as a moderator; return one row per view with its SQL."""
    code = f"import bench.lists as l; l.capture(out={str(out)!r})"
    printed = stack.manage("shell", "-c", code, timeout=300).stdout
    cookie = next(
        line.split(" ", 1)[1]
        for line in printed.splitlines()
        if line.startswith(SESSION_MARKER + " ")
    )
    captured = json.loads(out.read_text())
    rows = []
    for view in VIEWS:
        seen = captured[view.key]
        assert stack.web is not None
        before = worker_ticks(stack.web.pid)
        times, statuses = _time(stack.base_url + seen["path"], cookie, requests)
        ticks = worker_ticks(stack.web.pid) - before
        rows.append(
            {
                "key": view.key,
                "label": view.label,
                "path": seen["path"],
                "statuses": sorted(set(statuses)),
                "queries": len(seen["sql"]),
                # Steadier than the wall clock on a shared machine (warm-up requests included).
                "cpu_ms": cpu_us_per_request(
                    ticks=ticks, requests=WARM + requests, ticks_per_second=CLK_TCK
                )
                / 1000,
                "sql": seen["sql"],
                "unfiltered_counts": unfiltered_counts(seen["sql"]),
                **timing_summary(times),
            }
        )
    return rows


def _time(url: str, cookie: str, requests: int) -> tuple[list[float], list[int]]:
    times, statuses = [], []
    for n in range(WARM + requests):
        request = Request(url, headers={"Cookie": f"sessionid={cookie}"})  # noqa: S310
        started = time.perf_counter()
        try:
            with urlopen(request, timeout=30) as response:  # noqa: S310 (loopback URL)
                response.read()
                status = int(response.status)
        except HTTPError as error:
            status = error.code
        if n >= WARM:
            times.append((time.perf_counter() - started) * 1000)
            statuses.append(status)
    return times, statuses
