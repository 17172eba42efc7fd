"""The comments app's written-out SQL: the statements every post and every moderation task
runs, where building the ORM query cost more than running it.

Table and column names come from the model and statuses are parameters, so a renamed
field or status cannot leave a statement behind.
"""

from datetime import UTC, datetime
from typing import Any, cast

from django.db import connection
from django.db.models import Field
from django.utils.dateparse import parse_datetime

from comments.models import Comment
from reex.db import skip_locked

Status = Comment.Status


def _field(name: str) -> "Field[Any, Any]":
    return cast("Field[Any, Any]", Comment._meta.get_field(name))


# What the statements below name: the table and each field's column, from the model.
_NAMES = {"table": Comment._meta.db_table} | {
    field.name: field.column for field in Comment._meta.concrete_fields
}


def _sql(template: str, **extra: str) -> str:
    """Fill a statement's table and column names in from the model."""
    return template.format(**_NAMES, **extra)


# What comment_moderate writes, in this order; the rest of the row is kept.
DECISION_FIELDS = [
    _field(name)
    for name in [
        "body_html",
        "spam_score",
        "reasons",
        "status",
        "status_before_trash",
        "status_changed_at",
        "checked_at",
    ]
]

DUPLICATE_SQL = _sql("""SELECT EXISTS (
    SELECT 1 FROM {table} WHERE {article} = %s AND {author_email} = %s AND {body} = %s
    AND {status} <> %s)""")
FLOOD_SQL = _sql("""(SELECT MAX({created_at}) FROM {table}
    WHERE ({author_email} = %s OR {ip_address} = %s) AND {created_at} > %s)""")
_CLAIM_OWN_SQL = _sql("""SELECT {id} FROM {table}
    WHERE {id} = %s AND {status} = %s AND {checked_at} IS NULL""")
_CLAIM_OTHERS_SQL = _sql("""SELECT {id} FROM {table}
    WHERE {status} = %s AND {checked_at} IS NULL AND {created_at} >= %s AND {id} <> %s
    ORDER BY {created_at}, {id} LIMIT %s""")
_DECISION_SQL = _sql(
    "UPDATE {table} SET {assignments} WHERE {id} = %s",
    assignments=", ".join(f"{field.column} = %s" for field in DECISION_FIELDS),
)


def _datetime_read(value: datetime | str | None) -> datetime | None:
    # SQLite answers MAX() with the stored text (UTC), PostgreSQL with a datetime.
    if not isinstance(value, str):
        return value
    parsed = parse_datetime(value)
    return parsed.replace(tzinfo=UTC) if parsed and parsed.tzinfo is None else parsed


def comment_repeat_params(*, comment: Comment, flood_since: datetime | None) -> list[Any]:
    """Return the parameters of DUPLICATE_SQL, then of FLOOD_SQL unless ``flood_since`` is
    None (the flood is not asked)."""
    params: list[Any] = [comment.article_id, comment.author_email, comment.body, Status.TRASH]
    if flood_since is not None:
        since = connection.ops.adapt_datetimefield_value(flood_since)
        params += [comment.author_email, comment.ip_address, since]
    return params


def comment_repeat_read(
    *, comment: Comment, flood_since: datetime | None
) -> tuple[bool, datetime | None]:
    """Return whether the comment repeats one not trashed, and when its author (address or
    IP) last posted after ``flood_since`` (None: not asked, or not since), in one query."""
    params = comment_repeat_params(comment=comment, flood_since=flood_since)
    sql = DUPLICATE_SQL + (", NULL" if flood_since is None else ", " + FLOOD_SQL)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        duplicate, last = cursor.fetchone()
    return bool(duplicate), _datetime_read(last)


def comment_claim_unchecked(*, comment_id: int) -> bool:
    """Lock the comment until the transaction ends if it is still unchecked and no other
    transaction holds it; return whether it did."""
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_OWN_SQL + skip_locked(connection), [comment_id, Status.PENDING])
        return cursor.fetchone() is not None


def comments_claim_unchecked(*, since: datetime, other_than: int, limit: int) -> list[int]:
    """Lock up to ``limit`` unchecked comments created at ``since`` or later, oldest first,
    skipping rows other transactions hold; return their ids."""
    created_at = _field("created_at").get_db_prep_value(since, connection)
    params = [Status.PENDING, created_at, other_than, limit]
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_OTHERS_SQL + skip_locked(connection), params)
        return [row[0] for row in cursor.fetchall()]


def comment_decisions_write(comments: list[Comment]) -> None:
    """Write each comment's DECISION_FIELDS: one statement, many rows (pipelined)."""
    rows = [
        [f.get_db_prep_save(getattr(c, f.attname), connection) for f in DECISION_FIELDS] + [c.pk]
        for c in comments
    ]
    with connection.cursor() as cursor:
        cursor.executemany(_DECISION_SQL, rows)
