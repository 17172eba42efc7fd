"""The status counts above the admin comment list: exact when small, "about N" past a bound.

A plain GROUP BY status reads every row of the table on each page view; the counts stop
at a bound instead, and the planner estimates beyond it.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from comments.selectors import comment_status_counts, status_counts_shown
from reex.pagination import EstimatedCountPaginator
from tests.factories import ApprovedCommentFactory, CommentFactory

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.postgres_only(reason="estimates come from PostgreSQL's planner")


def test_counts_are_exact_without_a_bound():
    ApprovedCommentFactory.create_batch(3)
    CommentFactory.create_batch(2)
    assert comment_status_counts() == {"pending": 2, "approved": 3, "spam": 0, "trash": 0}


def test_a_bound_stops_each_count_one_row_past_it():
    ApprovedCommentFactory.create_batch(5)
    CommentFactory.create_batch(2)
    with CaptureQueriesContext(connection) as queries:
        counts = comment_status_counts(up_to=3)
    assert counts == {"pending": 2, "approved": 4, "spam": 0, "trash": 0}
    assert all("GROUP BY" not in q["sql"] for q in queries.captured_queries)
    assert all("LIMIT 4" in q["sql"] for q in queries.captured_queries)


@on_postgresql
def test_a_status_past_the_bound_is_shown_as_an_estimate(monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_UP_TO", 3)
    ApprovedCommentFactory.create_batch(6)
    CommentFactory.create_batch(2)
    shown = status_counts_shown()
    assert shown["pending"] == "2"
    assert shown["spam"] == "0"
    assert shown["approved"].startswith("about ")
    assert int(shown["approved"].removeprefix("about ").replace(",", "")) >= 4


def test_other_databases_show_exact_counts_whatever_the_size(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")  # as on SQLite, whatever runs this
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_UP_TO", 3)
    ApprovedCommentFactory.create_batch(6)
    assert status_counts_shown()["approved"] == "6"
