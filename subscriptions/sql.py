"""The app's written-out statements: each does in one round trip what the ORM needs several for.

Table and column names come from the models; values, statuses included, are parameters.
"""

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from reex.db import skip_locked
from subscriptions.models import (
    Delivery,
    Edition,
    EditionDelivery,
    Subscriber,
    Subscription,
    Suppression,
)


def _names(model: type[Model], fields: Sequence[str]) -> dict[str, str]:
    """Return the model's table and the columns of the fields named, for str.format."""
    found = [model._meta.get_field(name) for name in fields]
    columns = {f.name: f.column for f in found if isinstance(f, Field)}
    return {"table": model._meta.db_table, **columns}


# A new address is inserted; one that exists in any letter case makes it do nothing.
_SUBSCRIBER_INSERT = """
INSERT INTO {table}
    ({email}, {suppression}, {suppressed_at}, {soft_bounces}, {confirm_nonce},
     {created_at}, {updated_at})
VALUES (%s, %s, NULL, 0, %s, %s, %s)
ON CONFLICT DO NOTHING
RETURNING *
"""
_SUBSCRIBER_COLUMNS = [
    "email",
    "suppression",
    "suppressed_at",
    "soft_bounces",
    "confirm_nonce",
    "created_at",
    "updated_at",
]

# The queued rows named and fresh ones (never tried), own ones first, then the newest:
# readers wait for those; an old backlog has its own tasks or the sweep.
_DELIVERIES_CLAIM = """
UPDATE {table}
SET {status} = %s, {claimed_at} = %s, {last_attempt_at} = %s, {attempts} = {attempts} + 1
WHERE {status} = %s AND {id} IN (
    SELECT {id} FROM {table}
    WHERE {status} = %s AND ({id} IN ({own}) OR {last_attempt_at} IS NULL)
    ORDER BY CASE WHEN {id} IN ({own}) THEN 0 ELSE 1 END, {created_at} DESC, {id} DESC
    LIMIT %s{skip_locked}
)
RETURNING {id}
"""
_DELIVERY_COLUMNS = ["id", "status", "claimed_at", "last_attempt_at", "attempts", "created_at"]


def subscriber_insert(*, email: str, nonce: str, now: datetime) -> Subscriber | None:
    """Return the new subscriber, or None when the address exists in any letter case.

    A concurrent insert of the same address waits on the unique index, then does nothing.
    """
    sql = _SUBSCRIBER_INSERT.format(**_names(Subscriber, _SUBSCRIBER_COLUMNS))
    params = [email, Suppression.NONE.value, nonce, now, now]
    return next(iter(Subscriber.objects.raw(sql, params)), None)


def deliveries_claim(*, own: Sequence[int], limit: int, now: datetime) -> list[int]:
    """Mark up to ``limit`` queued deliveries sending (``own`` first); return their ids.

    Rows another worker is claiming are skipped, not waited for.
    """
    own = [int(pk) for pk in own] or [0]
    sql = _DELIVERIES_CLAIM.format(
        **_names(Delivery, _DELIVERY_COLUMNS),
        own=", ".join(["%s"] * len(own)),
        skip_locked=skip_locked(connection),
    )
    queued, sending = Delivery.Status.QUEUED.value, Delivery.Status.SENDING.value
    params: list[str | int | datetime] = [sending, now, now, queued, queued, *own, *own, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


# An edition's recipients, fixed in one statement: its list's confirmed, unsuppressed
# subscribers; a row that exists already (a second run) is left as it is.
_EDITION_RECIPIENTS_INSERT = """
INSERT INTO {deliveries}
    ({d_edition}, {d_subscriber}, {d_state}, {d_claimed_until}, {d_attempts}, {d_sent_at},
     {d_error})
SELECT %s, s.{s_subscriber}, %s, NULL, 0, NULL, ''
FROM {subscriptions} s JOIN {subscribers} r ON r.{r_id} = s.{s_subscriber}
WHERE s.{s_list} = %s AND s.{s_status} = %s AND r.{r_suppression} = ''
ON CONFLICT DO NOTHING
"""

# Queued rows and rows whose claim lapsed (their worker died), any order: the index on
# (edition, state, claimed_until) finds them without sorting the whole edition.
_EDITION_DELIVERIES_CLAIM = """
UPDATE {deliveries}
SET {d_state} = %s, {d_claimed_until} = %s, {d_attempts} = {d_attempts} + 1
WHERE {d_id} IN (
    SELECT {d_id} FROM {deliveries}
    WHERE {d_edition} = %s
      AND ({d_state} = %s OR ({d_state} = %s AND {d_claimed_until} < %s))
    LIMIT %s{skip_locked}
)
RETURNING {d_id}, {d_subscriber}, {d_attempts}
"""


# The re-check before each email, in one round trip: does this claim still hold the row,
# is the edition still sending, may the address still be mailed on the list.
_EDITION_ROW_CHECK = """
SELECT (d.{d_state} = %s AND d.{d_claimed_until} = %s), e.{e_state}, e.{e_errors},
       r.{r_suppression}, r.{r_email},
       (SELECT s.{s_status} FROM {subscriptions} s
        WHERE s.{s_subscriber} = d.{d_subscriber} AND s.{s_list} = %s)
FROM {deliveries} d
JOIN {editions} e ON e.{e_id} = d.{d_edition}
JOIN {subscribers} r ON r.{r_id} = d.{d_subscriber}
WHERE d.{d_id} = %s
"""
# PostgreSQL: the previous row marked sent and the next one checked in one round trip.
# The mark commits with the statement, before the next email goes.
_EDITION_ROW_MARK_AND_CHECK = """
WITH marked AS (
    UPDATE {deliveries} SET {d_state} = %s, {d_sent_at} = %s, {d_error} = ''
    WHERE {d_id} = %s AND {d_state} = %s AND {d_claimed_until} = %s
    RETURNING 1
)
SELECT x.*, m.n FROM (SELECT count(*) AS n FROM marked) m
LEFT JOIN ({check}) x ON true
"""
# The row's outcome, recorded only while the claim (its lease value) still holds it.
_EDITION_ROW_MARK = """
UPDATE {deliveries} SET {d_state} = %s, {d_sent_at} = %s, {d_error} = %s
WHERE {d_id} = %s AND {d_state} = %s AND {d_claimed_until} = %s
"""


@cache
def _edition_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for prefix, model, fields in (
        ("d", EditionDelivery, ["id", "edition", "subscriber", "state", "claimed_until",
                                "attempts", "sent_at", "error"]),
        ("s", Subscription, ["subscriber", "mailing_list", "status"]),
        ("r", Subscriber, ["id", "suppression", "email"]),
        ("e", Edition, ["id", "state"]),
    ):  # fmt: skip
        found = _names(model, fields)
        tables = {"d": "deliveries", "s": "subscriptions", "r": "subscribers", "e": "editions"}
        names[tables[prefix]] = found.pop("table")
        names.update({f"{prefix}_{k}": v for k, v in found.items()})
    names["s_list"] = names.pop("s_mailing_list")
    names["e_errors"] = Edition._meta.get_field("consecutive_errors").column
    return names


Checked = tuple[bool, str, int, str, str, str | None]


def edition_row_check(
    *, row_id: int, until: datetime, list_id: int, sent: tuple[int, datetime] | None = None
) -> tuple[Checked | None, int]:
    """Return (held by this claim, edition state, errors in a row, suppression, email,
    status on the list) for one row (None when it is gone), first marking ``sent`` (a row
    id and when it went) sent; and how many rows that mark changed (0 or 1)."""
    adapt = connection.ops.adapt_datetimefield_value
    sending = EditionDelivery.State.SENDING.value
    check = _EDITION_ROW_CHECK.format(**_edition_names())
    params: list[Any] = [sending, adapt(until), list_id, row_id]
    marked = 0
    if sent is not None and connection.vendor == "postgresql":
        check = _EDITION_ROW_MARK_AND_CHECK.format(**_edition_names(), check=check)
        mark = [EditionDelivery.State.SENT.value, sent[1], sent[0], sending, until]
        params = mark + params
    elif sent is not None:
        marked = edition_rows_mark(
            row_id=sent[0], until=until, state=EditionDelivery.State.SENT, sent_at=sent[1], error=""
        )
    with connection.cursor() as cursor:
        cursor.execute(check, params)
        row: Any = cursor.fetchone()
    if sent is not None and connection.vendor == "postgresql":
        *row, marked = row
    if row is None or row[0] is None:
        return None, marked
    held, state, errors, suppression, email, status = row
    return (bool(held), state, int(errors), suppression, email, status), marked


def edition_rows_mark(
    *, row_id: int, until: datetime, state: str, sent_at: datetime | None, error: str
) -> int:
    """Record one row's outcome while the claim holds it; return 1 if it did, else 0."""
    sql = _EDITION_ROW_MARK.format(**_edition_names())
    adapt = connection.ops.adapt_datetimefield_value
    params = [state, adapt(sent_at), error, row_id, EditionDelivery.State.SENDING.value]
    params.append(adapt(until))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def edition_recipients_insert(*, edition_id: int, list_id: int) -> int:
    """Add one queued delivery per confirmed, unsuppressed subscriber; return rows added."""
    sql = _EDITION_RECIPIENTS_INSERT.format(**_edition_names())
    params: list[str | int] = [
        edition_id,
        EditionDelivery.State.QUEUED.value,
        list_id,
        Subscription.Status.CONFIRMED.value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def edition_deliveries_claim(
    *, edition_id: int, limit: int, now: datetime, until: datetime
) -> list[tuple[int, int, int]]:
    """Mark up to ``limit`` of the edition's free rows sending until ``until``.

    Return (delivery id, subscriber id, attempts) of each; rows another worker is
    claiming are skipped, not waited for.
    """
    sql = _EDITION_DELIVERIES_CLAIM.format(**_edition_names(), skip_locked=skip_locked(connection))
    state = EditionDelivery.State
    # As the ORM stores them (SQLite: naive UTC text), so that the lease compares equal.
    adapt = connection.ops.adapt_datetimefield_value
    params: list[str | int | datetime | None] = [state.SENDING.value, adapt(until), edition_id]
    params += [state.QUEUED.value, state.SENDING.value, adapt(now), limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(a), int(b), int(c)) for a, b, c in cursor.fetchall()]
