import pytest
from django.utils import timezone

from subscriptions import edition_email, edition_sending
from subscriptions.models import Edition, MailingList, Subscription
from subscriptions.services import Requester
from tests.factories import SubscriptionFactory


@pytest.fixture(autouse=True)
def _subscription_settings(settings):
    settings.REEX_FORM_MIN_SECONDS = 0
    settings.REEX_BASE_URL = "http://testserver"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": ""}


@pytest.fixture
def daily(db) -> MailingList:
    return MailingList.objects.get(slug="daily")


@pytest.fixture
def weekly(db) -> MailingList:
    return MailingList.objects.create(slug="weekly", name="Weekly Digest")


@pytest.fixture
def form_requester() -> Requester:
    return Requester(source="form", ip="203.0.113.7", user_agent="pytest browser")


@pytest.fixture
def delay(mocker):
    """The sending task's delay, mocked: tests about callers check what was queued."""
    return mocker.patch("subscriptions.tasks.send_deliveries.delay")


@pytest.fixture
def edition(db, django_capture_on_commit_callbacks) -> Edition:
    """An edition being sent to three confirmed subscribers, its rows fanned out."""
    daily = MailingList.objects.get(slug="daily")
    for _ in range(3):
        SubscriptionFactory.create(mailing_list=daily, status=Subscription.Status.CONFIRMED)
    now = timezone.now()
    edition = Edition.objects.create(
        mailing_list=daily, number=1, state=Edition.State.SENDING, issue_date=now.date(),
        scheduled_for=now, cutoff=now, subject="Today", trigger=Edition.Trigger.MANUAL,
        text=f"Hello {edition_email.EMAIL}, leave: {edition_email.UNSUBSCRIBE}",
        html=f"<p>{edition_email.EMAIL} <a href=\"{edition_email.UNSUBSCRIBE}\">leave</a></p>",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        edition_sending.edition_fan_out(edition=edition)
    return edition
