"""What a view of the moderators' dashboard costs, whatever the size of the comments table:
a bounded number of statements, the comments read only by one capped count along the
(status, created_at) index, and the charts drawn once per state of the summary."""

import json
import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.lists import unfiltered_counts
from comments import admin_dashboard, charts, services
from comments.dashboard import capped_counts, dashboard_days, estimates, queue_counts
from comments.models import Comment, ModerationEvent
from reex.pagination import EstimatedCountPaginator
from tests.comments.factories import CommentFactory, make_moderator

pytestmark = pytest.mark.django_db
DASHBOARD = "/admin/comments/moderationday/"
Status = Comment.Status
on_postgresql = pytest.mark.postgres_only(reason="plans and estimates come from PostgreSQL")
# Session, user, the user's and the groups' permissions, the summary rows, the counts.
QUERIES_PER_VIEW = 6
TABLE = re.compile(r'"comments_comment"(?![\w"])')


@pytest.fixture(autouse=True)
def _nothing_drawn_yet():
    admin_dashboard.drawn.clear()
    estimates.clear()
    yield
    admin_dashboard.drawn.clear()
    estimates.clear()


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def busy_month():
    """Thirty summarised days, each with comments of every status and moderators acting."""
    now = timezone.now()
    moderators = [make_moderator(username=f"m{n}") for n in range(5)]
    for days_ago in range(30):
        at = now - timedelta(days=days_ago)
        for n, status in enumerate([Status.APPROVED, Status.SPAM, Status.PENDING, Status.TRASH]):
            comment = CommentFactory.create(created_at=at, status=status, checked_at=at)
            ModerationEvent.objects.create(
                comment=comment,
                created_at=at,
                from_status=Status.PENDING,
                to_status=status,
                action="approve",
                actor=moderators[(days_ago + n) % 5],
            )
    services.moderation_days_refresh(days=[now.date() - timedelta(days=n) for n in range(30)])


def _view(client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(DASHBOARD).status_code == HTTPStatus.OK
    return [query["sql"] for query in queries.captured_queries]


def test_a_view_sends_a_fixed_number_of_statements(moderator_client, busy_month):
    first, again = _view(moderator_client), _view(moderator_client)

    # Drawing reads the moderators' names once more; the next views reuse the drawing.
    assert len(first) == QUERIES_PER_VIEW + 1
    assert len(again) == QUERIES_PER_VIEW
    assert not any("comments_moderationevent" in sql for sql in first + again)


def test_the_comments_are_read_by_one_capped_count(moderator_client, busy_month):
    statements = _view(moderator_client)

    reads = [sql for sql in statements if TABLE.search(sql)]
    assert len(reads) == 1
    (counts,) = reads
    bound = EstimatedCountPaginator.EXACT_UP_TO
    # The table is read twice, each time a status's rows up to a LIMIT: pending and spam.
    sources = re.findall(r'(?:FROM|JOIN) "comments_comment"(?![\w"])', counts)
    capped = re.findall(
        r'FROM "comments_comment" WHERE "comments_comment"\."status" = (\S+) LIMIT (\d+)\)',
        counts,
    )
    assert len(sources) == 2
    assert capped == [("'pending'", str(bound + 1)), ("'spam'", str(bound + 1))]
    assert "GROUP BY" not in counts
    assert unfiltered_counts(statements) == []


def test_the_counts_stop_one_row_past_the_bound():
    CommentFactory.create_batch(5, status=Status.SPAM)
    CommentFactory.create_batch(2)

    assert capped_counts([Status.PENDING, Status.SPAM, Status.TRASH], up_to=3) == {
        "pending": 2,
        "spam": 4,
        "trash": 0,
    }


@on_postgresql
def test_past_the_bound_a_queue_is_shown_as_an_estimate(monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_UP_TO", 3)
    CommentFactory.create_batch(6, status=Status.SPAM)
    CommentFactory.create_batch(2)

    with CaptureQueriesContext(connection) as queries:
        shown = queue_counts()

    assert shown["pending"] == "2"
    assert shown["spam"].startswith("about ")
    assert int(shown["spam"].removeprefix("about ").replace(",", "")) >= 4
    statements = [query["sql"] for query in queries.captured_queries]
    assert all("LIMIT 4" in sql or sql.startswith("EXPLAIN") for sql in statements)
    assert sum(sql.startswith("EXPLAIN") for sql in statements) == 1


@on_postgresql
def test_the_estimate_is_asked_once_a_minute(monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_UP_TO", 3)
    CommentFactory.create_batch(6, status=Status.SPAM)
    clock = [1000.0]
    monkeypatch.setattr("comments.dashboard.time.monotonic", lambda: clock[0])

    def explains() -> int:
        with CaptureQueriesContext(connection) as queries:
            queue_counts()
        return sum(q["sql"].startswith("EXPLAIN") for q in queries.captured_queries)

    assert [explains(), explains()] == [1, 0]
    clock[0] += 61
    assert explains() == 1


def _plan_nodes(plan: dict) -> list[dict]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _plan_nodes(child))]


@on_postgresql
def test_the_counts_read_along_an_index_not_the_table(moderator_client, busy_month):
    (counts,) = [sql for sql in _view(moderator_client) if TABLE.search(sql)]

    with transaction.atomic(), connection.cursor() as cursor:
        # Where an index can answer, the planner must use it: a Seq Scan left means none can.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {counts}")
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    scans = [n for n in _plan_nodes(plan[0]["Plan"]) if n.get("Relation Name")]

    assert {n["Relation Name"] for n in scans} == {"comments_comment"}
    assert {n["Node Type"] for n in scans} <= {"Index Only Scan", "Index Scan"}
    assert all(n["Index Name"].startswith("comments_co_status") for n in scans)


def _summary(html: str) -> str:
    """Return the part of the page drawn from the summary (the rest holds a CSRF token)."""
    return html[html.index('<p class="help">') : html.index("</details>")]


def test_the_charts_are_drawn_once_per_state_of_the_summary(moderator_client, monkeypatch):
    drawn = []
    stacked_bars = charts.stacked_bars

    def counted(slug, *args):
        drawn.append(slug)
        return stacked_bars(slug, *args)

    monkeypatch.setattr(charts, "stacked_bars", counted)
    CommentFactory.create(created_at=timezone.now(), status=Status.SPAM)
    services.moderation_summary_refresh()

    first = _summary(moderator_client.get(DASHBOARD).content.decode())
    again = _summary(moderator_client.get(DASHBOARD).content.decode())
    assert drawn == ["outcomes", "reversals"]
    assert again == first

    CommentFactory.create_batch(2, created_at=timezone.now(), status=Status.SPAM)
    services.moderation_summary_refresh()
    after = _summary(moderator_client.get(DASHBOARD).content.decode())

    assert drawn == ["outcomes", "reversals"] * 2
    assert "<td>3</td>" in after and after != first


def test_the_digest_follows_the_values_not_the_refresh_time():
    now = timezone.now()
    services.moderation_day_refresh(day=now.date(), now=now)
    before = dashboard_days().fingerprint()
    CommentFactory.create(created_at=now - timedelta(minutes=1), status=Status.SPAM)
    services.moderation_day_refresh(day=now.date(), now=now)  # the same refreshed_at

    assert dashboard_days().fingerprint() != before
    assert dashboard_days().fingerprint("en") != dashboard_days().fingerprint("fr")


def test_a_renamed_moderator_shows_from_the_next_refresh(moderator_client):
    ann = make_moderator(username="ann")
    comment = CommentFactory.create(created_at=timezone.now())
    ModerationEvent.objects.create(
        comment=comment, from_status=Status.PENDING, to_status=Status.SPAM, action="spam", actor=ann
    )
    services.moderation_summary_refresh()
    assert '<th scope="row">ann</th>' in moderator_client.get(DASHBOARD).content.decode()

    ann.username = "anne"
    ann.save()
    kept = moderator_client.get(DASHBOARD).content.decode()
    services.moderation_summary_refresh()
    redrawn = moderator_client.get(DASHBOARD).content.decode()

    assert '<th scope="row">ann</th>' in kept
    assert '<th scope="row">anne</th>' in redrawn
