"""A reader's post written out: the article read and locked, the comment inserted.

Each post runs both, and compiling them with the ORM cost more than running them. The
statements are built once from the models (table and column names, converters), so a
renamed field cannot leave them behind; values go through each field's own conversions.
"""

from collections.abc import Callable
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model, signals
from django.db.models.expressions import Col

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
def _comment_insert(vendor: str) -> tuple[str, list["Field[Any, Any]"]]:
    meta = Comment._meta
    fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    table, pk = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608
    return sql, fields


def _has_receivers(model: type[Model]) -> bool:
    return signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)


def comment_insert(comment: Comment) -> None:
    """Insert a new comment as ``save()`` would, in one statement that answers its id.

    Falls back to ``save()`` when something listens to the model's save signals.
    """
    if _has_receivers(Comment):
        comment.save()
        return
    sql, fields = _comment_insert(connection.vendor)
    values = [field.get_db_prep_save(field.pre_save(comment, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        (comment.pk,) = cursor.fetchone()
    comment._state.adding, comment._state.db = False, connection.alias
