"""A new address's sign-up and a link's one-click unsubscribe, each in one statement.

PostgreSQL only (data-modifying WITH clauses); the services use the ORM elsewhere. One
statement commits on its own, so neither needs a transaction around it. Every column of
an inserted row comes from a model instance, as the ORM would save it, except those the
statement itself provides (the new subscriber's id, the list of each row).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from privacy.models import SuppressedHash
from subscriptions.models import ConsentEvent, Delivery, Subscriber, Subscription

Params = list[Any]

_INSERT_SELECT = "INSERT INTO {table} ({columns}) SELECT {values} FROM {source}"

# The subscriber takes the suppression its erased address left; the rows that hang on it
# are inserted only for the subscriber the statement itself added.
_NEW_ADDRESS = """
WITH erased AS (
    SELECT COALESCE(max({reason}), '') AS reason,
           CASE WHEN COALESCE(max({reason}), '') <> '' THEN %s::timestamptz END AS since
    FROM {hashes} WHERE {digest} = %s
), added AS ({person} ON CONFLICT DO NOTHING RETURNING id, suppression),
chosen AS (SELECT unnest(%s::bigint[]) AS id),
joined AS ({joins}),
logged AS ({log}),
mailed AS ({mail} RETURNING id)
SELECT added.id, (SELECT id FROM mailed) FROM added
"""

_ONE_LIST_LEFT = """
WITH gone AS (
    UPDATE {table} SET {status} = %s, {at} = %s
    WHERE {owner} = %s AND {listed} = %s AND {status} <> %s
    RETURNING {owner} AS s, {listed} AS l
), logged AS ({log})
SELECT (SELECT count(*) FROM gone), EXISTS (SELECT 1 FROM {people} WHERE {person_id} = %s)
"""


def supported() -> bool:
    return connection.vendor == "postgresql"


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return connection.ops.quote_name(field.column)


def _insert(obj: Model, *, source: str, given: dict[str, str]) -> tuple[str, Params]:
    """Return ``INSERT INTO <obj's table> (...) SELECT ... FROM source`` and its parameters.

    ``given`` maps a column to the SQL that fills it; the other columns take the values the
    ORM would save for ``obj`` (its defaults, auto_now, adapted for the database).
    """
    quote = connection.ops.quote_name
    columns, values, params = [], [], []
    for field in obj._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(field.column))
        if field.column in given:
            values.append(given[field.column])
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(obj, add=True), connection))
    sql = _INSERT_SELECT.format(
        table=quote(obj._meta.db_table),
        columns=", ".join(columns),
        values=", ".join(values),
        source=source,
    )
    return sql, params


@dataclass(frozen=True)
class NewSubscriber:
    subscriber_id: int
    confirmation_id: int | None  # None: the address came back suppressed (erased before)


def signup_new_address(
    *,
    subscriber: Subscriber,
    lists: Sequence[int],
    event: ConsentEvent,
    confirmation: Delivery,
    suppressed_hash: str,
    now: datetime,
) -> NewSubscriber | None:
    """Insert the subscriber with its consent log, pending lists and confirmation email.

    The subscriber takes the suppression its erased address left (``suppressed_hash``);
    then nothing but the consent log is written. Return None, having written nothing,
    when the address exists in any letter case (a concurrent insert is waited for).
    """
    hashes = connection.ops.quote_name(SuppressedHash._meta.db_table)
    reason, digest = _column(SuppressedHash, "reason"), _column(SuppressedHash, "email_hash")
    person, person_params = _insert(
        subscriber,
        source="erased",
        given={"suppression": "erased.reason", "suppressed_at": "erased.since"},
    )
    joins, join_params = _insert(
        Subscription(subscriber_id=0, mailing_list_id=0, requested_at=now),
        source="added, chosen WHERE added.suppression = ''",
        given={"subscriber_id": "added.id", "mailing_list_id": "chosen.id"},
    )
    each_list = {"subscriber_id": "added.id", "mailing_list_id": "chosen.id"}
    log, log_params = _insert(event, source="added, chosen", given=each_list)
    mail, mail_params = _insert(
        confirmation,
        source="added WHERE added.suppression = ''",
        given={"subscriber_id": "added.id"},
    )
    sql = _NEW_ADDRESS.format(
        reason=reason, hashes=hashes, digest=digest, person=person, joins=joins, log=log, mail=mail
    )
    params: Params = [now, suppressed_hash, *person_params, list(lists)]
    params += [*join_params, *log_params, *mail_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else NewSubscriber(subscriber_id=row[0], confirmation_id=row[1])


def unsubscribe_one_list(
    *, subscriber_id: int, list_id: int, event: ConsentEvent, now: datetime
) -> tuple[bool, bool]:
    """Leave one list, logging ``event`` (its list and subscriber filled in) if it changed.

    Return (whether the subscription changed, whether the subscriber exists).
    """
    table = connection.ops.quote_name(Subscription._meta.db_table)
    people = connection.ops.quote_name(Subscriber._meta.db_table)
    log, log_params = _insert(
        event, source="gone", given={"subscriber_id": "gone.s", "mailing_list_id": "gone.l"}
    )
    status, at = _column(Subscription, "status"), _column(Subscription, "unsubscribed_at")
    owner, listed = _column(Subscription, "subscriber"), _column(Subscription, "mailing_list")
    person_id = _column(Subscriber, "id")
    sql = _ONE_LIST_LEFT.format(
        table=table,
        status=status,
        at=at,
        owner=owner,
        listed=listed,
        log=log,
        people=people,
        person_id=person_id,
    )
    left = Subscription.Status.UNSUBSCRIBED.value
    params: Params = [left, now, subscriber_id, list_id, left, *log_params, subscriber_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        changed, exists = cursor.fetchone()
    return bool(changed), bool(exists)
