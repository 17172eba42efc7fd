import pytest
from django.core.management import CommandError, call_command

from subscriptions.models import ConsentEvent, Delivery, Subscription
from tests.subscriptions.factories import SubscriberFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
Status = Subscription.Status
CONSENT = "Mailchimp form, double opt-in, exported 2025-01-10"


def _import(tmp_path, rows: str):
    path = tmp_path / "list.csv"
    path.write_text(rows, encoding="utf-8")
    call_command("subscribers_import", str(path), "--consent", CONSENT)


def test_it_adds_confirmed_subscribers_without_mail_and_logs_the_consent(tmp_path, daily):
    _import(tmp_path, "email,name\nAnn@Example.org,Ann\n")
    subscription = Subscription.objects.get()
    assert subscription.status == Status.CONFIRMED
    assert subscription.subscriber.email == "ann@example.org"
    event = ConsentEvent.objects.get()
    assert (event.source, event.action, event.consent_text) == ("import", "confirmed", CONSENT)
    assert not Delivery.objects.exists()


def test_it_never_overrides_an_unsubscribe_or_a_suppression(tmp_path, daily):
    SubscriptionFactory.create(
        mailing_list=daily, status=Status.UNSUBSCRIBED, subscriber__email="gone@example.org"
    )
    SubscriberFactory.create(email="bounced@example.org", suppression="bounced")
    _import(tmp_path, "email\ngone@example.org\nbounced@example.org\n")
    assert list(Subscription.objects.values_list("status", flat=True)) == [Status.UNSUBSCRIBED]


def test_it_skips_invalid_addresses_and_reports_them(tmp_path, daily, capsys):
    _import(tmp_path, "email\nnot-an-address\nok@example.org\n")
    assert Subscription.objects.get().subscriber.email == "ok@example.org"
    captured = capsys.readouterr()
    assert "line 2: not an email address" in captured.err
    assert "1 added, 0 already there or opted out, 1 invalid" in captured.out


def test_it_needs_an_email_column(tmp_path, daily):
    with pytest.raises(CommandError, match="email"):
        _import(tmp_path, "address\nann@example.org\n")


def test_it_needs_a_known_list(tmp_path, daily):
    path = tmp_path / "list.csv"
    path.write_text("email\nann@example.org\n")
    with pytest.raises(CommandError, match="No list"):
        call_command("subscribers_import", str(path), "--consent", CONSENT, "--list", "nope")
