"""The app's written-out statements: each does in one round trip what the ORM needs several for.

Table and column names come from the models; values, statuses included, are parameters.
"""

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, cast

import psycopg
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


# Why a claimed row is skipped: its address suppressed (the kind between these), or no
# longer confirmed on the list.
SKIP_SUPPRESSED = ("address suppressed (", ") since the edition started")
SKIP_UNSUBSCRIBED = "no longer subscribed"

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
_EDITION_FREE_ROWS = """
SELECT {d_id} FROM {deliveries}
WHERE {d_edition} = %s
  AND ({d_state} = %s OR ({d_state} = %s AND {d_claimed_until} < %s))
LIMIT %s{skip_locked}
"""
_EDITION_DELIVERIES_CLAIM = """
UPDATE {deliveries}
SET {d_state} = %s, {d_claimed_until} = %s, {d_attempts} = {d_attempts} + 1
WHERE {d_id} IN ({free})
RETURNING {d_id}, {d_subscriber}, {d_attempts}
"""
# Why a claimed row must not go out: '' when its address may still be mailed on the list.
_EDITION_SKIP_REASON = """
CASE WHEN r.{r_suppression} <> '' THEN %s || r.{r_suppression} || %s
     WHEN (SELECT s.{s_status} FROM {subscriptions} s
           WHERE s.{s_subscriber} = d.{d_subscriber}
             AND s.{s_list} = (SELECT e.{e_list} FROM {editions} e WHERE e.{e_id} = %s))
          IS DISTINCT FROM %s
     THEN %s
     ELSE '' END
"""
# PostgreSQL: claim the rows and check them in one statement; a row whose address may no
# longer be mailed is marked skipped right there, the others sending under the lease.
_EDITION_CLAIM_AND_CHECK = """
WITH checked AS (
    SELECT d.{d_id} AS id, r.{r_email} AS email, {reason} AS reason
    FROM {deliveries} d JOIN {subscribers} r ON r.{r_id} = d.{d_subscriber}
    WHERE d.{d_id} IN ({free})
)
UPDATE {deliveries} d
SET {d_state} = CASE WHEN c.reason = '' THEN %s ELSE %s END,
    {d_claimed_until} = %s,
    {d_attempts} = d.{d_attempts} + 1,
    {d_error} = CASE WHEN c.reason = '' THEN d.{d_error} ELSE c.reason END
FROM checked c
WHERE d.{d_id} = c.id
RETURNING d.{d_id}, d.{d_subscriber}, d.{d_attempts}, c.email, c.reason
"""
# Elsewhere the claimed rows' addresses and reasons are read after the claim.
_EDITION_CLAIMED_CHECK = """
SELECT d.{d_id}, r.{r_email}, {reason}
FROM {deliveries} d JOIN {subscribers} r ON r.{r_id} = d.{d_subscriber}
WHERE d.{d_id} IN ({ids})
"""
_EDITION_ROWS_SKIP = """
UPDATE {deliveries} SET {d_state} = %s, {d_error} = %s WHERE {d_id} = %s
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
    names["e_list"] = Edition._meta.get_field("mailing_list").column
    return names


@cache
def _edition_sql(name: str) -> str:
    """The statements each email runs, written out once per process."""
    names = _edition_names()
    check = _EDITION_ROW_CHECK.format(**names)
    return {
        "check": check,
        "mark and check": _EDITION_ROW_MARK_AND_CHECK.format(**names, check=check),
        "mark": _EDITION_ROW_MARK.format(**names),
    }[name]


Checked = tuple[bool, str, int, str, str, str | None]


def edition_row_check(
    *, row_id: int, until: datetime, list_id: int, sent: tuple[int, datetime] | None = None
) -> tuple[Checked | None, int]:
    """Return (held by this claim, edition state, errors in a row, suppression, email,
    status on the list) for one row (None when it is gone), first marking ``sent`` (a row
    id and when it went) sent; and how many rows that mark changed (0 or 1)."""
    adapt = connection.ops.adapt_datetimefield_value
    sending = EditionDelivery.State.SENDING.value
    check = _edition_sql("check")
    params: list[Any] = [sending, adapt(until), list_id, row_id]
    marked = 0
    if sent is not None and connection.vendor == "postgresql":
        check = _edition_sql("mark and check")
        mark = [EditionDelivery.State.SENT.value, sent[1], sent[0], sending, until]
        params = mark + params
    elif sent is not None:
        marked = edition_rows_mark(
            row_id=sent[0], until=until, state=EditionDelivery.State.SENT, sent_at=sent[1], error=""
        )
    found, _ = prepared(check, params)
    row: Any = found[0] if found else None
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
    sql = _edition_sql("mark")
    adapt = connection.ops.adapt_datetimefield_value
    params = [state, adapt(sent_at), error, row_id, EditionDelivery.State.SENDING.value]
    params.append(adapt(until))
    return prepared(sql, params)[1]


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
) -> list[tuple[int, int, int, str]]:
    """Claim up to ``limit`` of the edition's free rows until ``until`` and check them.

    Return (delivery id, subscriber id, attempts, email) of each row to send; a row whose
    address was suppressed or left the list since the fan-out is marked skipped instead.
    Rows another worker is claiming are skipped, not waited for.
    """
    names = _edition_names()
    state = EditionDelivery.State
    # As the ORM stores them (SQLite: naive UTC text), so that the lease compares equal.
    adapt = connection.ops.adapt_datetimefield_value
    free = _EDITION_FREE_ROWS.format(**names, skip_locked=skip_locked(connection))
    free_params = [edition_id, state.QUEUED.value, state.SENDING.value, adapt(now), limit]
    reason = _EDITION_SKIP_REASON.format(**names)
    if connection.vendor != "postgresql":
        return _claim_then_check(free, free_params, reason, edition_id, adapt(until))
    sql = _EDITION_CLAIM_AND_CHECK.format(**names, free=free, reason=reason)
    params = [*_reason_params(edition_id), *free_params]
    params += [state.SENDING.value, state.SKIPPED.value, adapt(until)]
    rows, _ = prepared(sql, params)
    return [(int(a), int(b), int(c), email) for a, b, c, email, why in rows if not why]


def _reason_params(edition_id: int) -> list[Any]:
    confirmed = Subscription.Status.CONFIRMED.value
    return [*SKIP_SUPPRESSED, edition_id, confirmed, SKIP_UNSUBSCRIBED]


def _claim_then_check(
    free: str, free_params: list[Any], reason: str, edition_id: int, until: Any
) -> list[tuple[int, int, int, str]]:
    """The claim and its check in two statements, and one more per row to skip (SQLite)."""
    names = _edition_names()
    claim = _EDITION_DELIVERIES_CLAIM.format(**names, free=free)
    sending = EditionDelivery.State.SENDING.value
    with connection.cursor() as cursor:
        cursor.execute(claim, [sending, until, *free_params])
        claimed = [(int(a), int(b), int(c)) for a, b, c in cursor.fetchall()]
        if not claimed:
            return []
        ids = ", ".join(["%s"] * len(claimed))
        check = _EDITION_CLAIMED_CHECK.format(**names, reason=reason, ids=ids)
        cursor.execute(check, [*_reason_params(edition_id), *(row[0] for row in claimed)])
        found = {int(row_id): (email, why) for row_id, email, why in cursor.fetchall()}
        skip = _EDITION_ROWS_SKIP.format(**names)
        for row_id, why in ((r, w) for r, (_, w) in found.items() if w):
            cursor.execute(skip, [EditionDelivery.State.SKIPPED.value, why, row_id])
    # A row missing from the check lost its subscriber meanwhile (erased): nothing to send.
    checked = [(row, found.get(row[0], ("", "erased"))) for row in claimed]
    return [(*row, email) for row, (email, why) in checked if not why]


def prepared(sql: str, params: Sequence[Any]) -> tuple[list[Any], int]:
    """Run a statement each email (or batch) repeats; return its rows and row count.

    On PostgreSQL bound on the server and prepared once per connection, so that its
    repeats are neither parsed nor planned again (Django's cursor inlines the values).
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = list(cursor.fetchall()) if cursor.description else []
            return rows, max(cursor.rowcount, 0)
    connection.ensure_connection()
    raw = connection.connection
    # Django turns psycopg's prepared statements off for its own (client-bound) queries:
    # on for this one only.
    threshold, raw.prepare_threshold = raw.prepare_threshold, 0
    try:
        with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
            cast(Any, cursor).execute(sql, params, prepare=True)
            rows = list(cursor.fetchall()) if cursor.description else []
            return rows, max(cursor.rowcount, 0)
    finally:
        raw.prepare_threshold = threshold
