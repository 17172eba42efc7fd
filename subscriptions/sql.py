"""The app's written-out statements: each does in one round trip what the ORM needs several for.

Table and column names come from the models; values, statuses included, are parameters.
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import connection
from django.db.models import Field, Model

from reex.db import skip_locked
from subscriptions.models import Delivery, Subscriber, Suppression


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
