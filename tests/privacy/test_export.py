import json

import pytest
from django.core.exceptions import ValidationError

from privacy import services
from privacy.hashing import email_hash
from privacy.models import PersonalDataRequest
from tests.privacy.conftest import Person

pytestmark = pytest.mark.django_db


def test_it_exports_every_comment_with_its_raw_details(ann: Person):
    data = services.personal_data_export(email=ann.email)
    by_id = {c["id"]: c for c in data["comments"]}
    assert set(by_id) == {ann.approved.pk, ann.pending.pk}
    comment = by_id[ann.approved.pk]
    assert comment["article"]["key"] == ann.approved.article.key
    assert comment["status"] == "approved"
    assert comment["body"] == f"Raw <b>body</b> by {ann.email}"
    assert comment["author_name"] == f"Name of {ann.email}"
    assert comment["author_url"] == "https://ann.reader.example.com/"
    assert comment["ip_address"] == "198.51.100.23"
    assert comment["user_agent"] == f"Agent of {ann.email}"
    assert comment["referrer"] == f"https://news.example.org/{ann.email}/"
    assert comment["created_at"] == ann.approved.created_at.isoformat()


def test_it_exports_subscriptions_and_the_whole_consent_log(ann: Person):
    newsletter = services.personal_data_export(email=ann.email)["newsletter"]
    assert newsletter["email"] == ann.email
    assert [(s["list"], s["status"]) for s in newsletter["subscriptions"]] == [
        ("daily", "confirmed")
    ]
    log = newsletter["consent_log"]
    assert [e["action"] for e in log] == ["requested", "confirmed", "soft_bounced"]
    assert log[0]["ip_address"] == "198.51.100.23"
    assert log[0]["consent_version"] == "2025-01"
    assert log[0]["consent_text"] == "Yes, send me the newsletter."


def test_it_exports_the_emails_sent_to_the_address(ann: Person):
    emails = services.personal_data_export(email=ann.email)["emails"]
    kinds = sorted(e["kind"] for e in emails)
    assert kinds == ["comment_reply", "welcome"]
    assert all(e["sent_at"] for e in emails)


def test_it_leaves_out_other_peoples_data(ann: Person, bob: Person):
    text = json.dumps(services.personal_data_export(email=ann.email))
    for foreign in ["bob@example.net", "203.0.113.99", "Agent of bob", bob.approved.body]:
        assert foreign not in text
    assert ann.reply_to_them.body not in text


def test_it_finds_the_address_whatever_its_case(ann: Person):
    data = services.personal_data_export(email="  ann.reader@EXAMPLE.ORG ")
    assert len(data["comments"]) == 2
    assert data["newsletter"] is not None


def test_an_unknown_address_exports_nothing_held():
    data = services.personal_data_export(email="nobody@example.org")
    assert data["comments"] == []
    assert data["newsletter"] is None
    assert data["emails"] == []


def test_it_audits_the_export_with_a_hash_instead_of_the_address(ann: Person):
    services.personal_data_export(email=ann.email)
    record = PersonalDataRequest.objects.get()
    assert record.action == PersonalDataRequest.Action.EXPORT
    assert record.email_hash == email_hash(ann.email)
    assert ann.email.lower() not in json.dumps(record.counts).lower()
    assert record.counts == {"comments": 2, "subscriptions": 1, "consent_events": 3, "emails": 2}


def test_the_hash_ignores_case_and_spaces_but_differs_between_addresses():
    assert email_hash(" Ann@Example.org") == email_hash("ann@example.org")
    assert email_hash("ann@example.org") != email_hash("bob@example.org")
    assert "ann" not in email_hash("ann@example.org")


def test_it_refuses_something_that_is_not_an_address():
    with pytest.raises(ValidationError):
        services.personal_data_export(email="not an address")
    assert not PersonalDataRequest.objects.exists()
