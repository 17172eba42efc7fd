import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comments.admin import RecentArticleListFilter
from comments.models import Comment
from reex.pagination import EstimatedCountPaginator
from tests.comments.factories import ApprovedCommentFactory, ArticleFactory, CommentFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/comments/comment/"
on_postgresql = pytest.mark.postgres_only(reason="estimates come from PostgreSQL's catalogue")
WHOLE_TABLE_COUNT = re.compile(r'SELECT COUNT\(\*\) AS "__count" FROM "comments_comment"\s*$')


def _pretend_the_table_holds(rows: int) -> None:
    # What autovacuum's ANALYZE records; the test transaction rolls it back.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE pg_class SET reltuples = %s WHERE relname = 'comments_comment'", [rows]
        )


def _count(queryset) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        count = EstimatedCountPaginator(queryset, 50).count
    return count, [query["sql"] for query in queries.captured_queries]


@on_postgresql
def test_an_unfiltered_big_table_is_counted_from_the_planners_estimate():
    ApprovedCommentFactory.create_batch(3)
    _pretend_the_table_holds(1_234_567)
    count, queries = _count(Comment.objects.all())
    assert count == 1_234_567
    assert not any("COUNT(" in sql for sql in queries)


@on_postgresql
def test_an_unfiltered_small_table_is_counted_exactly():
    ApprovedCommentFactory.create_batch(3)
    _pretend_the_table_holds(20)
    assert _count(Comment.objects.all())[0] == 3


@on_postgresql
def test_a_table_never_analysed_is_counted_exactly():
    ApprovedCommentFactory.create_batch(3)
    _pretend_the_table_holds(-1)
    assert _count(Comment.objects.all())[0] == 3


@on_postgresql
def test_a_filtered_list_below_the_threshold_is_counted_exactly_with_a_bounded_query():
    ApprovedCommentFactory.create_batch(4)
    CommentFactory.create_batch(2)
    _pretend_the_table_holds(1_234_567)
    count, queries = _count(Comment.objects.filter(status=Comment.Status.PENDING))
    assert count == 2
    assert any("LIMIT 10001" in sql for sql in queries)
    assert not any(WHOLE_TABLE_COUNT.search(sql) for sql in queries)


@on_postgresql
def test_a_filtered_list_past_the_threshold_shows_at_least_what_was_counted(monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_UP_TO", 3)
    CommentFactory.create_batch(6)
    count, queries = _count(Comment.objects.filter(status=Comment.Status.PENDING))
    assert count >= 4
    assert any("LIMIT 4" in sql for sql in queries)
    assert any(sql.startswith("EXPLAIN") for sql in queries)


def test_other_databases_and_plain_lists_are_counted_exactly():
    article = ArticleFactory.create()
    ApprovedCommentFactory.create_batch(5, article=article)
    assert EstimatedCountPaginator(Comment.objects.filter(article=article), 2).count == 5
    assert EstimatedCountPaginator([1, 2, 3], 2).count == 3


def test_the_admin_comment_list_never_counts_the_whole_table(client, moderator):
    ApprovedCommentFactory.create_batch(3)
    if connection.vendor == "postgresql":
        _pretend_the_table_holds(1_234_567)
    client.force_login(moderator)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    expected = 1_234_567 if connection.vendor == "postgresql" else 3
    assert response.context["cl"].result_count == expected
    assert response.context["cl"].full_result_count is None
    if connection.vendor == "postgresql":
        assert not any(WHOLE_TABLE_COUNT.search(q["sql"]) for q in queries.captured_queries)


def test_the_admin_comment_list_filtered_by_status_shows_the_exact_count(client, moderator):
    ApprovedCommentFactory.create_batch(3)
    CommentFactory.create_batch(2)
    client.force_login(moderator)
    response = client.get(CHANGELIST, {"status__exact": "pending"})
    assert response.context["cl"].result_count == 2
    assert len(response.context["cl"].result_list) == 2


def test_the_admin_comment_list_shows_the_newest_first(client, moderator):
    older, newer = CommentFactory.create_batch(2)
    client.force_login(moderator)
    listed = client.get(CHANGELIST).context["cl"].result_list
    assert [c.pk for c in listed] == [newer.pk, older.pk]
    pending = client.get(CHANGELIST, {"status__exact": "pending"}).context["cl"].result_list
    assert [c.pk for c in pending] == [newer.pk, older.pk]


def test_the_article_filter_offers_recent_articles_and_the_chosen_one(
    client, moderator, monkeypatch
):
    monkeypatch.setattr(RecentArticleListFilter, "OFFERED", 2)
    now = timezone.now()
    old = ArticleFactory.create(published_at=now - timedelta(days=30))
    recent = [ArticleFactory.create(published_at=now - timedelta(days=d)) for d in (1, 2, 3)]
    CommentFactory.create(article=old)
    client.force_login(moderator)

    def offered(**params: str) -> list[int]:
        response = client.get(CHANGELIST, params)
        spec = next(s for s in response.context["cl"].filter_specs if s.title == "article")
        return [int(pk) for pk, _ in spec.lookup_choices]

    assert offered() == [recent[0].pk, recent[1].pk]
    assert offered(article__id__exact=str(old.pk)) == [recent[0].pk, recent[1].pk, old.pk]
    response = client.get(CHANGELIST, {"article__id__exact": str(old.pk)})
    assert [c.article_id for c in response.context["cl"].result_list] == [old.pk]
