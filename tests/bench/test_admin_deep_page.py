"""Deep pages of the admin comment list read their ids first, then only their own rows."""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from comments.models import Comment
from reex.pagination import EstimatedCountPaginator
from tests.factories import ApprovedCommentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def comments(monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "DEFER_FROM", 4)
    ApprovedCommentFactory.create_batch(9)
    return Comment.objects.select_related("article").order_by("-id")


def test_a_deep_page_holds_the_same_rows_in_the_same_order(comments):
    deep = EstimatedCountPaginator(comments, 2).page(3)
    plain = Paginator(comments, 2).page(3)
    assert [c.pk for c in deep.object_list] == [c.pk for c in plain.object_list]
    assert deep.has_next() and deep.has_previous()


def test_a_deep_page_skips_rows_by_id_only(comments):
    paginator = EstimatedCountPaginator(comments, 2)
    paginator.count  # noqa: B018 (counted before, as the admin does)
    with CaptureQueriesContext(connection) as queries:
        page = paginator.page(3)
        assert page.object_list[0].article.key  # the related article came with the rows
    skip, rows = (q["sql"] for q in queries.captured_queries)
    assert "OFFSET 4" in skip
    assert skip.split(" FROM ")[0] == 'SELECT "comments_comment"."id" AS "pk"'
    assert "OFFSET" not in rows


def test_a_first_page_is_read_in_one_query(comments):
    paginator = EstimatedCountPaginator(comments, 2)
    paginator.count  # noqa: B018
    with CaptureQueriesContext(connection) as queries:
        list(paginator.page(1).object_list)
    assert len(queries.captured_queries) == 1
