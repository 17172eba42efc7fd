"""A reader's post written out: the article read and locked, the comment inserted.

Each post runs both, and compiling them with the ORM cost more than running them. The
statements are built once from the models (table and column names, converters), so a
renamed field cannot leave them behind; values go through each field's own conversions.
"""

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model, signals
from django.db.models.expressions import Col

from comments import sql
from comments.models import Article, Comment

Conversion = tuple[int, Col, list[Callable[[Any, Any, Any], Any]]]


@cache
def _article_select(vendor: str) -> tuple[str, list[str], list[Conversion]]:
    """Return the locking SELECT, the attribute names it reads and the columns' converters."""
    fields = list(Article._meta.concrete_fields)
    quote, table = connection.ops.quote_name, Article._meta.db_table
    columns = ", ".join(quote(field.column) for field in fields)
    key = quote(Article._meta.get_field("key").column)
    sql = f"SELECT {columns} FROM {quote(table)} WHERE {key} = %s"  # noqa: S608 (model names)
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    conversions = []
    for index, field in enumerate(fields):
        col = Col(table, field)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if found:
            conversions.append((index, col, found))
    return sql, [field.attname for field in fields], conversions


def article_lock(*, key: str) -> Article | None:
    """Return the article with this key, locked until the transaction ends, or None."""
    sql, names, conversions = _article_select(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, col, found in conversions:
        for convert in found:
            values[index] = convert(values[index], col, connection)
    return Article.from_db(connection.alias, names, values)


@cache
def _comment_insert(vendor: str) -> tuple[str, str, list["Field[Any, Any]"]]:
    """Return the INSERT's head (up to the column list), its value marks and its fields."""
    meta, quote = Comment._meta, connection.ops.quote_name
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(meta.db_table)} ({columns})", marks, fields


def _returning_pk() -> str:
    return f" RETURNING {connection.ops.quote_name(Comment._meta.pk.column)}"


def _has_receivers(model: type[Model]) -> bool:
    return signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)


@cache
def _comment_insert_unless_repeat(vendor: str, *, flood: bool) -> str:
    head, marks, _ = _comment_insert(vendor)
    condition = f"NOT ({sql.DUPLICATE_SQL})" + (f" AND {sql.FLOOD_SQL} IS NULL" if flood else "")
    return f"{head} SELECT {marks} WHERE {condition}{_returning_pk()}"


def comment_insert_unless_repeat(comment: Comment, *, flood_since: datetime | None) -> bool:
    """Insert the comment unless comment_repeat_read would find a duplicate or a flood, in
    one statement; return whether it was inserted (on PostgreSQL without save signals only:
    elsewhere nothing is tried and the answer is False)."""
    if connection.vendor != "postgresql" or _has_receivers(Comment):
        return False
    *_, fields = _comment_insert(connection.vendor)
    statement = _comment_insert_unless_repeat(connection.vendor, flood=flood_since is not None)
    values = [field.get_db_prep_save(field.pre_save(comment, True), connection) for field in fields]
    values += sql.comment_repeat_params(comment=comment, flood_since=flood_since)
    with connection.cursor() as cursor:
        cursor.execute(statement, values)
        row = cursor.fetchone()
    if row is None:
        return False
    comment.pk = row[0]
    comment._state.adding, comment._state.db = False, connection.alias
    return True


def comment_insert(comment: Comment) -> None:
    """Insert a new comment as ``save()`` would, in one statement that answers its id.

    Falls back to ``save()`` when something listens to the model's save signals.
    """
    if _has_receivers(Comment):
        comment.save()
        return
    head, marks, fields = _comment_insert(connection.vendor)
    values = [field.get_db_prep_save(field.pre_save(comment, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(f"{head} VALUES ({marks}){_returning_pk()}", values)
        (comment.pk,) = cursor.fetchone()
    comment._state.adding, comment._state.db = False, connection.alias
