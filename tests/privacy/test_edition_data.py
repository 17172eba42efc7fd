"""The editions sent to an address are part of its data: exported, and erased with it."""

import pytest
from django.utils import timezone

from privacy import services
from subscriptions.models import Edition, EditionDelivery, MailingList
from tests.factories import EditionFactory
from tests.privacy.conftest import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def edition(db) -> Edition:
    return EditionFactory.create(
        mailing_list=MailingList.objects.get(slug="daily"),
        number=4,
        subject="Daily News Update: Lanthanum",
        state=Edition.State.SENT,
        started_at=timezone.now(),
    )


def test_the_export_lists_the_editions_sent_to_the_address(ann: Person, bob: Person, edition):
    EditionDelivery.objects.create(
        edition=edition,
        subscriber=ann.subscriber,
        state=EditionDelivery.State.SENT,
        sent_at=timezone.now(),
    )
    EditionDelivery.objects.create(edition=edition, subscriber=bob.subscriber)
    emails = services.personal_data_export(email=ann.email)["emails"]
    (entry,) = [e for e in emails if e["kind"] == "edition"]
    assert entry["list"] == "daily"
    assert (entry["number"], entry["subject"], entry["status"]) == (
        4,
        "Daily News Update: Lanthanum",
        "sent",
    )
    assert entry["created_at"] == edition.started_at.isoformat()


def test_erasing_the_address_removes_its_edition_deliveries(ann: Person, bob: Person, edition):
    EditionDelivery.objects.create(edition=edition, subscriber=ann.subscriber)
    EditionDelivery.objects.create(edition=edition, subscriber=bob.subscriber)
    services.personal_data_erase(email=ann.email)
    assert list(EditionDelivery.objects.values_list("subscriber", flat=True)) == [bob.subscriber.pk]
