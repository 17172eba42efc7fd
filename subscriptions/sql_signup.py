"""A new address's sign-up and a link's one-click unsubscribe, each in one statement.

PostgreSQL only (data-modifying WITH clauses); the services use the ORM elsewhere. One
statement commits on its own, so neither needs a transaction around it. Every column of
an inserted row takes the value the ORM would save for a new instance with the values
given (its defaults, "now" for the time it was made), except those the statement itself
provides (the new subscriber's id, the list of each row). No instance is built: a default
that is a constant is adapted for the database once.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import DateTimeField, Field, Model
from django.utils import timezone

from privacy.models import SuppressedHash
from subscriptions.models import ConsentEvent, Delivery, MailingList, Subscriber, Subscription

Params = list[Any]
Values = Mapping[str, Any]

_INSERT_SELECT = "INSERT INTO {table} ({columns}) SELECT {values} FROM {source}"

# The subscriber takes the suppression its erased address left. It is added only when
# every list asked for was found, and the rows that hang on it only for the subscriber the
# statement itself added; one row answers in every case.
_NEW_ADDRESS = """
WITH chosen AS ({chosen}),
erased AS (
    SELECT COALESCE(max({reason}), '') AS reason,
           CASE WHEN COALESCE(max({reason}), '') <> '' THEN %s::timestamptz END AS since
    FROM {hashes} WHERE {digest} = %s
), added AS ({person} ON CONFLICT DO NOTHING RETURNING id, suppression),
joined AS ({joins}),
logged AS ({log}),
mailed AS ({mail} RETURNING id)
SELECT (SELECT count(*) FROM chosen), (SELECT id FROM added), (SELECT id FROM mailed)
"""
_CHOSEN_BY_ID = "SELECT id, n FROM unnest(%s::bigint[]) WITH ORDINALITY AS c(id, n)"
_CHOSEN_BY_SLUG = """
SELECT m.{id} AS id, c.n FROM unnest(%s::text[]) WITH ORDINALITY AS c(slug, n)
JOIN {lists} m ON m.{slug} = c.slug AND m.{public}
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


# How a column not given is filled: the time the row is made, or a default to call.
_NOW = object()
_CALLED = object()
Column = tuple[str, "Field[Any, Any]", object]


def _filled(field: "Field[Any, Any]") -> object:
    """Return how ``field`` is filled when not given: _NOW, _CALLED, or its adapted value."""
    if isinstance(field, DateTimeField) and (
        field.auto_now or field.auto_now_add or field.default is timezone.now
    ):
        return _NOW
    if callable(field.default):
        return _CALLED
    return field.get_db_prep_save(field.get_default(), connection)


@dataclass(frozen=True)
class _Insert:
    """``INSERT INTO <model's table> (...) SELECT ... FROM <source>`` and its own values.

    ``given`` maps a column to the SQL that fills it; the other columns (``columns``: the
    attribute name, the field, how it is filled when not given) take their values from
    ``params``.
    """

    sql: str
    columns: tuple[Column, ...]

    @classmethod
    def of(cls, model: type[Model], *, source: str, given: dict[str, str]) -> "_Insert":
        quote = connection.ops.quote_name
        names, values, columns = [], [], []
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            names.append(quote(field.column))
            values.append(given.get(field.column, "%s"))
            if field.column not in given:
                columns.append((field.attname, field, _filled(field)))
        sql = _INSERT_SELECT.format(
            table=quote(model._meta.db_table),
            columns=", ".join(names),
            values=", ".join(values),
            source=source,
        )
        return cls(sql=sql, columns=tuple(columns))

    def params(self, values: Mapping[str, Any], *, now: datetime) -> Params:
        """The values the ORM saves for a new ``model(**values)`` made at ``now``."""
        params: Params = []
        at = None
        for name, field, filled in self.columns:
            if name in values:
                params.append(field.get_db_prep_save(values[name], connection))
            elif filled is _NOW:
                at = at or field.get_db_prep_save(now, connection)
                params.append(at)
            elif filled is _CALLED:
                params.append(field.get_db_prep_save(field.get_default(), connection))
            else:
                params.append(filled)
        return params


@dataclass(frozen=True)
class _NewAddress:
    sql: str
    person: _Insert
    joins: _Insert
    log: _Insert
    mail: _Insert


@cache
def _new_address(by_slug: bool) -> _NewAddress:
    each_list = {"subscriber_id": "added.id", "mailing_list_id": "chosen.id"}
    first = "(SELECT id FROM chosen ORDER BY n LIMIT 1)"
    parts = {
        "person": _Insert.of(
            Subscriber,
            source="erased WHERE (SELECT count(*) FROM chosen) = %s",
            given={"suppression": "erased.reason", "suppressed_at": "erased.since"},
        ),
        "joins": _Insert.of(
            Subscription,
            source="added, chosen WHERE added.suppression = '' ORDER BY chosen.n",
            given=each_list,
        ),
        "log": _Insert.of(ConsentEvent, source="added, chosen ORDER BY chosen.n", given=each_list),
        "mail": _Insert.of(
            Delivery,
            source="added WHERE added.suppression = ''",
            given={"subscriber_id": "added.id", "mailing_list_id": first},
        ),
    }
    chosen = _CHOSEN_BY_ID
    if by_slug:
        chosen = _CHOSEN_BY_SLUG.format(
            id=_column(MailingList, "id"),
            lists=connection.ops.quote_name(MailingList._meta.db_table),
            slug=_column(MailingList, "slug"),
            public=_column(MailingList, "is_public"),
        )
    sql = _NEW_ADDRESS.format(
        chosen=chosen,
        reason=_column(SuppressedHash, "reason"),
        hashes=connection.ops.quote_name(SuppressedHash._meta.db_table),
        digest=_column(SuppressedHash, "email_hash"),
        **{name: part.sql for name, part in parts.items()},
    )
    return _NewAddress(sql=sql, **parts)


@dataclass(frozen=True)
class Signup:
    lists_found: bool  # False: a slug named no public list, and nothing was written
    subscriber_id: int | None  # None: the address exists, and nothing was written
    confirmation_id: int | None  # None also when the address came back suppressed


def signup_new_address(
    *,
    subscriber: Values,
    event: Values,
    confirmation: Values,
    suppressed_hash: str,
    now: datetime,
    list_ids: Sequence[int] | None = None,
    public_slugs: Sequence[str] | None = None,
) -> Signup:
    """Insert the subscriber with its consent log, pending lists and confirmation email.

    ``subscriber``, ``event`` and ``confirmation`` are each row's own values, by attribute
    name (the statement fills in the subscriber and the lists). The lists are
    ``list_ids``, or the public lists named by ``public_slugs`` (distinct), in that order:
    the confirmation is about the first. The subscriber takes the suppression its erased
    address left (``suppressed_hash``); then only the consent log is written. Nothing is
    written when the address exists in any letter case (a concurrent insert is waited
    for) or a slug names no public list.
    """
    chosen = list(list_ids if list_ids is not None else public_slugs or [])
    statement = _new_address(by_slug=list_ids is None)
    params: Params = [chosen, now, suppressed_hash, *statement.person.params(subscriber, now=now)]
    params.append(len(chosen))
    params += statement.joins.params({}, now=now)
    params += statement.log.params(event, now=now)
    params += statement.mail.params(confirmation, now=now)
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        found, subscriber_id, confirmation_id = cursor.fetchone()
    return Signup(
        lists_found=found == len(chosen),
        subscriber_id=subscriber_id,
        confirmation_id=confirmation_id,
    )


@cache
def _one_list_left() -> tuple[str, _Insert]:
    log = _Insert.of(
        ConsentEvent, source="gone", given={"subscriber_id": "gone.s", "mailing_list_id": "gone.l"}
    )
    sql = _ONE_LIST_LEFT.format(
        table=connection.ops.quote_name(Subscription._meta.db_table),
        status=_column(Subscription, "status"),
        at=_column(Subscription, "unsubscribed_at"),
        owner=_column(Subscription, "subscriber"),
        listed=_column(Subscription, "mailing_list"),
        log=log.sql,
        people=connection.ops.quote_name(Subscriber._meta.db_table),
        person_id=_column(Subscriber, "id"),
    )
    return sql, log


def unsubscribe_one_list(
    *, subscriber_id: int, list_id: int, event: Values, now: datetime
) -> tuple[bool, bool]:
    """Leave one list, logging ``event`` (a ConsentEvent's values by attribute name; its
    list and subscriber filled in) if it changed.

    Return (whether the subscription changed, whether the subscriber exists).
    """
    sql, log = _one_list_left()
    left = Subscription.Status.UNSUBSCRIBED.value
    params: Params = [left, now, subscriber_id, list_id, left, *log.params(event, now=now)]
    params.append(subscriber_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        changed, exists = cursor.fetchone()
    return bool(changed), bool(exists)
