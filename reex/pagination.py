"""A paginator for big admin lists: no COUNT(*) over a whole table, deep pages by id."""

import json
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """Counts a big list without ``COUNT(*)`` over the whole table (PostgreSQL only).

    Unfiltered, the count is the planner's row estimate of the table (``pg_class.reltuples``,
    kept by autovacuum). Filtered, rows are counted exactly up to ``EXACT_UP_TO``; past it
    the planner's estimate for the filtered query is shown. Small tables and other
    databases are counted exactly. The admin shows the number as the list's size and pages
    by it: an estimate may be off by a few percent, so the last page can come up short.
    """

    EXACT_UP_TO = 10_000
    DEFER_FROM = 1_000

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not isinstance(rows, QuerySet) or connections[rows.db].vendor != "postgresql":
            return super().count
        if not rows.query.where and not rows.query.distinct:
            estimate = self._table_estimate(rows)
            if estimate > self.EXACT_UP_TO:
                return estimate
        exact = rows.order_by()[: self.EXACT_UP_TO + 1].count()
        if exact <= self.EXACT_UP_TO:
            return exact
        return max(planner_estimate(rows), exact)

    def page(self, number: int | str) -> Page:
        """Return a page; a deep one reads its ids first, then only its own rows.

        Past ``DEFER_FROM`` rows the OFFSET walks an index for the ids alone (an index-only
        scan of the primary key unfiltered) instead of reading every skipped row.
        """
        rows = self.object_list
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if bottom < self.DEFER_FROM or not isinstance(rows, QuerySet):
            return super().page(number)
        ids = list(rows.values_list("pk", flat=True)[bottom : bottom + self.per_page])
        found = rows.order_by().in_bulk(ids)
        return Page([found[pk] for pk in ids if pk in found], number, self)

    @staticmethod
    def _table_estimate(rows: QuerySet[Any]) -> int:
        with connections[rows.db].cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
                [rows.model._meta.db_table],
            )
            found = cursor.fetchone()
        return int(found[0]) if found and found[0] > 0 else -1


def planner_estimate(rows: QuerySet[Any]) -> int:
    """Return PostgreSQL's planner estimate of how many rows ``rows`` holds (0 if unknown)."""
    plan = rows.order_by().explain(format="json")
    try:
        return int(json.loads(plan)[0]["Plan"]["Plan Rows"])
    except (ValueError, LookupError, TypeError):
        return 0
