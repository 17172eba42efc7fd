import csv
import io
from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from subscriptions.models import ConsentEvent, Delivery, Subscriber, Subscription
from tests.subscriptions.factories import SubscriberFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
Status = Subscription.Status


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_superuser("boss", "boss@example.org", "pw"))
    return client


@pytest.fixture
def people(daily, weekly):
    ann = SubscriptionFactory.create(
        mailing_list=daily, status=Status.CONFIRMED, subscriber__email="ann@example.org"
    )
    SubscriptionFactory.create(mailing_list=daily, subscriber__email="bob@example.org")
    SubscriptionFactory.create(
        mailing_list=weekly, status=Status.CONFIRMED, subscriber__email="cat@example.org"
    )
    ConsentEvent.objects.create(
        subscriber=ann.subscriber,
        mailing_list=daily,
        action="requested",
        source="form",
        consent_text="I agree",
        consent_version="v1",
    )
    return ann


def _changelist(model: str) -> str:
    return reverse(f"admin:subscriptions_{model}_changelist")


def test_the_subscriber_list_loads_in_few_queries(staff, people, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = staff.get(_changelist("subscriber"))
    assert response.status_code == HTTPStatus.OK
    assert "daily: confirmed" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("on_list=daily", {"ann@example.org", "bob@example.org"}),
        ("list_status=confirmed", {"ann@example.org", "cat@example.org"}),
        ("on_list=daily&list_status=pending", {"bob@example.org"}),
        ("on_list=weekly&list_status=pending", set()),
        ("q=ANN@", {"ann@example.org"}),
    ],
)
def test_subscribers_filter_by_list_and_status_together(staff, people, query, expected):
    response = staff.get(f"{_changelist('subscriber')}?{query}")
    shown = {s.email for s in response.context["cl"].result_list}
    assert shown == expected


def test_the_suppressed_filter(staff, people):
    Subscriber.objects.filter(email="bob@example.org").update(suppression="bounced")
    response = staff.get(f"{_changelist('subscriber')}?suppression__exact=bounced")
    assert [s.email for s in response.context["cl"].result_list] == ["bob@example.org"]


def test_the_consent_log_is_shown_read_only_on_the_subscriber(staff, people):
    url = reverse("admin:subscriptions_subscriber_change", args=[people.subscriber_id])
    response = staff.get(url)
    content = response.content.decode()
    assert "Consent log (append-only)" in content
    assert "I agree" in content
    assert 'name="consent_events-0-consent_text"' not in content
    (log,) = [f for f in response.context["inline_admin_formsets"] if f.opts.model is ConsentEvent]
    assert not (log.has_add_permission or log.has_change_permission or log.has_delete_permission)


def test_the_consent_log_cannot_be_edited():
    event = ConsentEvent.objects.create(
        subscriber=SubscriberFactory.create(), action="requested", source="form"
    )
    event.detail = "changed"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


def _action(staff, model, action, pks):
    return staff.post(
        _changelist(model),
        {"action": action, "_selected_action": [str(pk) for pk in pks]},
        follow=True,
    )


def test_the_unsubscribe_action_writes_the_log(staff, people):
    _action(staff, "subscriber", "unsubscribe_all", [people.subscriber_id])
    people.refresh_from_db()
    assert people.status == Status.UNSUBSCRIBED
    event = ConsentEvent.objects.filter(action="unsubscribed").get()
    assert event.source == "admin"


def test_the_suppress_action(staff, people):
    _action(staff, "subscriber", "suppress", [people.subscriber_id])
    assert Subscriber.objects.get(pk=people.subscriber_id).suppression == "manual"
    assert ConsentEvent.objects.filter(action="suppressed", source="admin").exists()


def test_the_resend_action_sends_a_confirmation_to_pending_addresses(staff, people):
    bob = Subscriber.objects.get(email="bob@example.org")
    _action(staff, "subscriber", "resend_confirmation", [bob.pk, people.subscriber_id])
    assert list(Delivery.objects.values_list("subscriber_id", flat=True)) == [bob.pk]


def test_a_view_only_staff_member_cannot_act(client, people):
    from django.contrib.auth.models import Permission

    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    client.force_login(user)
    _action(client, "subscriber", "suppress", [people.subscriber_id])
    assert Subscriber.objects.get(pk=people.subscriber_id).suppression == ""


def test_subscriptions_filter_by_list_status_and_dates(staff, people, daily):
    response = staff.get(
        f"{_changelist('subscription')}?mailing_list__id__exact={daily.pk}&status__exact=pending"
    )
    assert [s.subscriber.email for s in response.context["cl"].result_list] == ["bob@example.org"]
    assert staff.get(f"{_changelist('subscription')}?confirmed_at__isnull=True").status_code == 200


def test_the_lists_show_counts_per_status(staff, people):
    response = staff.get(_changelist("mailinglist"))
    lists = {m.slug: m for m in response.context["cl"].result_list}
    assert (lists["daily"].pending_count, lists["daily"].confirmed_count) == (1, 1)
    assert lists["weekly"].confirmed_count == 1


def test_each_count_column_is_its_own_column(staff, people):
    html = staff.get(_changelist("mailinglist")).content.decode()
    for status in ["pending", "confirmed", "unsubscribed", "suppressed"]:
        assert f'class="field-{status}_count' in html


def test_the_csv_export_holds_the_confirmed_subscribers_of_the_list(staff, people, daily):
    SubscriptionFactory.create(
        mailing_list=daily, status=Status.CONFIRMED, subscriber__email="=cmd@example.org"
    )
    SubscriptionFactory.create(
        mailing_list=daily,
        status=Status.CONFIRMED,
        subscriber__email="gone@example.org",
        subscriber__suppression="bounced",
    )
    response = staff.post(
        _changelist("mailinglist"),
        {"action": "export_confirmed_csv", "_selected_action": [str(daily.pk)]},
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["list", "email", "signed_up_at", "confirmed_at"]
    assert [r[1] for r in rows[1:]] == ["ann@example.org", "'=cmd@example.org"]
