import pytest

from subscriptions.models import MailingList
from subscriptions.services import Requester


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
