"""A new address's sign-up and a link's one-click unsubscribe, each in one statement.

PostgreSQL only (data-modifying WITH clauses); the services use the ORM elsewhere. One
statement commits on its own, so neither needs a transaction around it. Every column of
an inserted row comes from a model instance, as the ORM would save it, except those the
statement itself provides (the new subscriber's id, the list of each row).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from privacy.models import SuppressedHash
from subscriptions.models import ConsentEvent, Delivery, MailingList, Subscriber, Subscription

Params = list[Any]

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


@dataclass(frozen=True)
class _Insert:
    """``INSERT INTO <model's table> (...) SELECT ... FROM <source>`` and its own values.

    ``given`` maps a column to the SQL that fills it; the other columns take the values the
    ORM would save for an instance (its defaults, auto_now, adapted for the database).
    """

    sql: str
    fields: "tuple[Field[Any, Any], ...]"

    @classmethod
    def of(cls, model: type[Model], *, source: str, given: dict[str, str]) -> "_Insert":
        quote = connection.ops.quote_name
        columns, values, fields = [], [], []
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            columns.append(quote(field.column))
            values.append(given.get(field.column, "%s"))
            if field.column not in given:
                fields.append(field)
        sql = _INSERT_SELECT.format(
            table=quote(model._meta.db_table),
            columns=", ".join(columns),
            values=", ".join(values),
            source=source,
        )
        return cls(sql=sql, fields=tuple(fields))

    def params(self, obj: Model) -> Params:
        return [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in self.fields]


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
    subscriber: Subscriber,
    event: ConsentEvent,
    confirmation: Delivery,
    suppressed_hash: str,
    now: datetime,
    list_ids: Sequence[int] | None = None,
    public_slugs: Sequence[str] | None = None,
) -> Signup:
    """Insert the subscriber with its consent log, pending lists and confirmation email.

    The lists are ``list_ids``, or the public lists named by ``public_slugs`` (distinct),
    in that order: the confirmation is about the first. The subscriber takes the
    suppression its erased address left (``suppressed_hash``); then only the consent log
    is written. Nothing is written when the address exists in any letter case (a
    concurrent insert is waited for) or a slug names no public list.
    """
    chosen = list(list_ids if list_ids is not None else public_slugs or [])
    statement = _new_address(by_slug=list_ids is None)
    joined = Subscription(subscriber_id=0, mailing_list_id=0, requested_at=now)
    params: Params = [chosen, now, suppressed_hash, *statement.person.params(subscriber)]
    params += [len(chosen), *statement.joins.params(joined), *statement.log.params(event)]
    params += statement.mail.params(confirmation)
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
    *, subscriber_id: int, list_id: int, event: ConsentEvent, now: datetime
) -> tuple[bool, bool]:
    """Leave one list, logging ``event`` (its list and subscriber filled in) if it changed.

    Return (whether the subscription changed, whether the subscriber exists).
    """
    sql, log = _one_list_left()
    left = Subscription.Status.UNSUBSCRIBED.value
    params: Params = [left, now, subscriber_id, list_id, left, *log.params(event), subscriber_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        changed, exists = cursor.fetchone()
    return bool(changed), bool(exists)
