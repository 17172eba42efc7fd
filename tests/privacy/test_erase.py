import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from comments.models import Comment, Notification
from privacy import selectors, services
from privacy.hashing import email_hash
from privacy.models import ErasedConsent, PersonalDataRequest, SuppressedHash
from reex.models import WebhookDelivery
from subscriptions.consent import CURRENT
from subscriptions.models import (
    ConsentEvent,
    Delivery,
    MailingList,
    Subscriber,
    Subscription,
    Suppression,
)
from subscriptions.services import subscription_import
from tests.comments.factories import UserFactory
from tests.privacy.conftest import Person

pytestmark = pytest.mark.django_db


def test_it_keeps_the_comments_but_anonymises_them_as_wordpress_does(ann: Person):
    services.personal_data_erase(email=ann.email)
    for comment in Comment.objects.filter(pk__in=[ann.approved.pk, ann.pending.pk]):
        assert comment.author_name == "Anonymous"
        assert comment.author_email == ""
        assert comment.author_url == ""
        assert comment.ip_address is None
        assert comment.user_agent == ""
        assert comment.referrer == ""
        assert comment.notify_replies is False
    kept = Comment.objects.get(pk=ann.approved.pk)
    assert kept.body == ann.approved.body
    assert kept.status == Comment.Status.APPROVED
    assert kept.body_html == ann.approved.body_html


def test_the_public_list_no_longer_shows_the_name_once_erased(
    ann: Person, client, django_capture_on_commit_callbacks
):
    url = f"/api/v1/articles/{ann.approved.article.key}/comments/"
    assert ann.approved.author_name in client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.personal_data_erase(email=ann.email)

    names = [c["author_name"] for c in client.get(url).json()["results"]]
    assert ann.approved.author_name not in names
    assert "Anonymous" in names


def test_it_drops_the_reply_notifications_sent_to_the_address(ann: Person):
    services.personal_data_erase(email=ann.email)
    assert not Notification.objects.filter(pk=ann.notification.pk).exists()
    assert Comment.objects.filter(pk=ann.reply_to_them.pk).exists()


def test_it_removes_the_subscriber_with_subscriptions_and_deliveries(ann: Person):
    services.personal_data_erase(email=ann.email)
    assert not Subscriber.objects.filter(pk=ann.subscriber.pk).exists()
    assert not Subscription.objects.filter(subscriber_id=ann.subscriber.pk).exists()
    assert not Delivery.objects.filter(subscriber_id=ann.subscriber.pk).exists()
    assert not ConsentEvent.objects.filter(subscriber_id=ann.subscriber.pk).exists()


def test_it_keeps_the_consent_log_only_as_hashed_proof(ann: Person):
    services.personal_data_erase(email=ann.email)
    kept = list(ErasedConsent.objects.order_by("id"))
    # The soft bounce says nothing about consent: it goes.
    assert [e.action for e in kept] == ["requested", "confirmed"]
    requested = kept[0]
    assert requested.email_hash == email_hash(ann.email)
    assert requested.mailing_list is not None and requested.mailing_list.slug == "daily"
    assert requested.source == ConsentEvent.Source.FORM
    assert requested.consent_version == "2025-01"
    # Nothing that identifies the person has a place to be kept.
    fields = {f.name for f in ErasedConsent._meta.get_fields()}
    assert not {"ip_address", "user_agent", "detail", "reference", "subscriber"} & fields


def test_it_keeps_the_original_consent_times(ann: Person):
    times = list(ann.subscriber.consent_events.order_by("id").values_list("created_at", flat=True))
    services.personal_data_erase(email=ann.email)
    kept = list(ErasedConsent.objects.order_by("id").values_list("created_at", flat=True))
    assert kept == times[:2]


def test_a_suppressed_address_stays_suppressed_as_a_hash(ann: Person):
    Subscriber.objects.filter(pk=ann.subscriber.pk).update(
        suppression=Suppression.COMPLAINED, suppressed_at=timezone.now()
    )
    services.personal_data_erase(email=ann.email)
    row = SuppressedHash.objects.get()
    assert row.email_hash == email_hash(ann.email)
    assert row.reason == Suppression.COMPLAINED
    assert selectors.suppression_for_email(email=ann.email.upper()) == Suppression.COMPLAINED


def test_an_address_in_good_standing_leaves_no_suppression(ann: Person):
    services.personal_data_erase(email=ann.email)
    assert not SuppressedHash.objects.exists()
    assert selectors.suppression_for_email(email=ann.email) == ""


def test_it_leaves_other_people_alone(ann: Person, bob: Person):
    services.personal_data_erase(email=ann.email)
    bob_comment = Comment.objects.get(pk=bob.approved.pk)
    assert bob_comment.author_email == "bob@example.net"
    assert bob_comment.ip_address == "203.0.113.99"
    assert Subscriber.objects.filter(pk=bob.subscriber.pk).exists()
    assert bob.subscriber.consent_events.count() == 3
    assert Notification.objects.filter(pk=bob.notification.pk).exists()
    # Bob's reply to Ann stays Bob's.
    assert Comment.objects.get(pk=ann.reply_to_them.pk).author_email == "bob@example.net"


def test_it_audits_the_erasure_with_its_counts(ann: Person):
    actor = UserFactory.create(username="dpo")
    counts = services.personal_data_erase(email=ann.email, actor=actor)
    record = PersonalDataRequest.objects.get()
    assert record.action == PersonalDataRequest.Action.ERASE
    assert record.actor == actor
    assert record.actor_label == "dpo"
    assert record.email_hash == email_hash(ann.email)
    assert record.counts == counts
    assert counts == {
        "notifications": 1,
        "admin_log_entries": 0,
        "webhook_events": 0,
        "comments": 2,
        "subscriptions": 1,
        "deliveries": 1,
        "consent_events": 3,
        "consent_kept": 2,
        "suppression_kept": 0,
        "subscribers": 1,
    }


def test_nothing_is_half_erased_when_a_step_fails(ann: Person, mocker):
    # The audit is the last write: everything before it must roll back with it.
    mocker.patch.object(
        PersonalDataRequest.objects, "create", side_effect=RuntimeError("disk full")
    )
    with pytest.raises(RuntimeError):
        services.personal_data_erase(email=ann.email)
    assert Comment.objects.get(pk=ann.approved.pk).author_email == ann.email.lower()
    assert Notification.objects.filter(pk=ann.notification.pk).exists()
    assert Subscriber.objects.filter(pk=ann.subscriber.pk).exists()
    assert not ErasedConsent.objects.exists()
    assert not PersonalDataRequest.objects.exists()


def test_erasing_again_finds_nothing_more(ann: Person):
    services.personal_data_erase(email=ann.email)
    counts = services.personal_data_erase(email=ann.email)
    assert counts["comments"] == 0
    assert counts["subscribers"] == 0
    assert PersonalDataRequest.objects.count() == 2


def test_the_export_after_erasure_shows_only_what_was_kept(ann: Person):
    services.personal_data_erase(email=ann.email)
    data = services.personal_data_export(email=ann.email)
    assert data["comments"] == []
    assert data["newsletter"] is None
    assert data["emails"] == []
    kept = data["kept_after_erasure"]["consent_log"]
    assert [e["action"] for e in kept] == ["requested", "confirmed"]
    assert "ip_address" not in kept[0]


def test_an_erased_bounced_address_comes_back_suppressed_when_imported(ann: Person):
    Subscriber.objects.filter(pk=ann.subscriber.pk).update(suppression=Suppression.BOUNCED)
    services.personal_data_erase(email=ann.email)
    daily = MailingList.objects.get(slug="daily")
    assert subscription_import(email=ann.email, mailing_list=daily, consent=CURRENT) is False
    assert Subscriber.objects.get().suppression == Suppression.BOUNCED


def _log(obj: object, *, object_id: int, repr_: str, flag: int) -> LogEntry:
    return LogEntry.objects.create(
        user=UserFactory.create(),
        content_type=ContentType.objects.get_for_model(obj),  # type: ignore[arg-type]
        object_id=str(object_id),
        object_repr=repr_,
        action_flag=flag,
    )


def test_it_blanks_the_address_in_admin_history(ann: Person, bob: Person):
    comment = _log(Comment, object_id=ann.approved.pk, repr_=str(ann.approved), flag=CHANGE)
    deleted = _log(Subscriber, object_id=9999, repr_=ann.email.upper(), flag=DELETION)
    other = _log(Comment, object_id=bob.approved.pk, repr_=str(bob.approved), flag=CHANGE)
    counts = services.personal_data_erase(email=ann.email)
    assert counts["admin_log_entries"] == 2
    for entry in (comment, deleted):
        entry.refresh_from_db()
        assert entry.object_repr == "(erased)"
    other.refresh_from_db()
    assert other.object_repr == str(bob.approved)


def test_it_deletes_the_outbound_events_about_the_address(ann: Person, bob: Person):
    about = {
        f"comment:{ann.approved.pk}": "comment.approved",
        f"subscriber:{ann.subscriber.pk}": "subscription.confirmed",
        f"comment:{bob.approved.pk}": "comment.approved",
    }
    for subject, event in about.items():
        WebhookDelivery.objects.create(
            event=event, subject=subject, target="webhook", payload={"x": ann.email}
        )
    counts = services.personal_data_erase(email=ann.email)
    assert counts["webhook_events"] == 2
    assert list(WebhookDelivery.objects.values_list("subject", flat=True)) == [
        f"comment:{bob.approved.pk}"
    ]
