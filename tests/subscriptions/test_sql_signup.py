"""The one-statement sign-up saves each column as the ORM would save a new instance."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.models import Model

from subscriptions import sql_signup
from subscriptions.consent import CURRENT, Requester
from subscriptions.consent_log import consent_values
from subscriptions.models import ConsentEvent, Delivery, Subscriber, Subscription

NOW = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
EVENT = consent_values(
    action=ConsentEvent.Action.REQUESTED,
    requester=Requester(source="api", ip="", user_agent="x" * 600),
    consent=CURRENT,
)
CASES = [
    (Subscriber, {"email": "Ann@Example.org", "confirm_nonce": "n0nce"}),
    (Subscription, {}),
    (ConsentEvent, EVENT),
    (Delivery, {"kind": Delivery.Kind.CONFIRMATION, "nonce": "n0nce", "enqueued_at": NOW}),
]


def _orm_params(model: type[Model], values: dict[str, object], monkeypatch) -> list[object]:
    """What the ORM's insert saves for ``model(**values)`` made at NOW."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    instance = model(**values)
    params = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in ("subscriber_id", "mailing_list_id"):
            continue
        if getattr(field.default, "__name__", "") == "now":  # bound before the patch
            setattr(instance, field.attname, NOW)
        params.append(field.get_db_prep_save(field.pre_save(instance, add=True), connection))
    return params


@pytest.mark.parametrize(("model", "values"), CASES)
def test_an_inserts_values_are_the_orms_for_a_new_instance(db, model, values, monkeypatch):
    given = {"subscriber_id": "1", "mailing_list_id": "2"}
    insert = sql_signup._Insert.of(model, source="nowhere", given=given)
    assert insert.params(values, now=NOW) == _orm_params(model, values, monkeypatch)


def test_an_insert_of_the_consent_log_keeps_the_values_given(db):
    insert = sql_signup._Insert.of(ConsentEvent, source="nowhere", given={})
    names = [name for name, _, _ in insert.columns]
    params = dict(zip(names, insert.params(EVENT, now=NOW), strict=True))
    assert params["ip_address"] is None  # "" is no address, as the ORM saves it
    assert params["user_agent"] == "x" * 500
    created_at = ConsentEvent._meta.get_field("created_at")
    assert params["created_at"] == created_at.get_db_prep_save(NOW, connection)
    assert params["consent_text"] == CURRENT.text
