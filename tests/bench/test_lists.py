"""Spotting a count that reads every row of the comments table in the SQL a view ran."""

from bench.lists import unfiltered_counts

WHOLE = 'SELECT COUNT(*) AS "__count" FROM "comments_comment"'
GROUPED = (
    'SELECT "comments_comment"."status", COUNT("comments_comment"."id") AS "n" '
    'FROM "comments_comment" GROUP BY 1'
)
BOUNDED = (
    'SELECT COUNT(*) FROM (SELECT 1 AS "a" FROM "comments_comment" '
    'WHERE "comments_comment"."status" = %s LIMIT 10001) subquery'
)
FILTERED = 'SELECT COUNT(*) AS "__count" FROM "comments_comment" WHERE "article_id" = %s'
PAGE = 'SELECT "comments_comment"."id" FROM "comments_comment" ORDER BY "id" DESC LIMIT 50'
OTHER_TABLE = 'SELECT COUNT(*) AS "__count" FROM "comments_article"'
SIMILAR_NAME = 'SELECT COUNT(*) FROM "comments_comment_reasons"'


def test_it_flags_a_whole_table_count():
    assert unfiltered_counts([PAGE, WHOLE]) == [WHOLE]


def test_it_flags_a_group_by_over_every_row():
    assert unfiltered_counts([GROUPED]) == [GROUPED]


def test_it_accepts_counts_bounded_by_a_limit_or_a_filter():
    assert unfiltered_counts([BOUNDED, FILTERED]) == []


def test_it_ignores_reads_that_do_not_count():
    assert unfiltered_counts([PAGE]) == []


def test_it_only_looks_at_the_given_table():
    assert unfiltered_counts([OTHER_TABLE, SIMILAR_NAME]) == []
    assert unfiltered_counts([OTHER_TABLE], table="comments_article") == [OTHER_TABLE]
