from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from comments.models import Comment
from privacy import services, tasks
from subscriptions.models import ConsentEvent
from tests.comments.factories import CommentFactory
from tests.privacy.conftest import Person

pytestmark = pytest.mark.django_db


def _aged(days: float) -> Comment:
    return CommentFactory.create(
        ip_address="198.51.100.1",
        user_agent="Mozilla/5.0",
        referrer="https://news.example.org/post/",
        created_at=timezone.now() - timedelta(days=days),
    )


def test_it_clears_ip_user_agent_and_referrer_past_the_retention(settings):
    settings.REEX_IP_RETENTION_DAYS = 30
    old = _aged(31)
    assert services.comments_anonymise_old_ips() == 1
    old.refresh_from_db()
    assert (old.ip_address, old.user_agent, old.referrer) == (None, "", "")
    assert old.author_email and old.body  # the comment itself is untouched


def test_it_keeps_them_within_the_retention(settings):
    settings.REEX_IP_RETENTION_DAYS = 30
    recent = _aged(29)
    assert services.comments_anonymise_old_ips() == 0
    recent.refresh_from_db()
    assert recent.ip_address == "198.51.100.1"
    assert recent.user_agent == "Mozilla/5.0"


def test_zero_keeps_them_for_good(settings):
    settings.REEX_IP_RETENTION_DAYS = 0
    old = _aged(400)
    assert services.comments_anonymise_old_ips() == 0
    old.refresh_from_db()
    assert old.ip_address == "198.51.100.1"


def test_it_works_through_more_than_one_batch(settings, mocker):
    settings.REEX_IP_RETENTION_DAYS = 30
    mocker.patch("privacy.services.RETENTION_BATCH", 2)
    comments = [_aged(40) for _ in range(5)]
    assert services.comments_anonymise_old_ips() == 5
    assert not Comment.objects.filter(pk__in=[c.pk for c in comments], ip_address__isnull=False)


def test_running_it_again_changes_nothing(settings):
    settings.REEX_IP_RETENTION_DAYS = 30
    _aged(31)
    services.comments_anonymise_old_ips()
    assert services.comments_anonymise_old_ips() == 0


def test_the_consent_log_keeps_its_ip_addresses_as_proof(settings, ann: Person):
    settings.REEX_IP_RETENTION_DAYS = 1
    ConsentEvent.objects.update(created_at=timezone.now() - timedelta(days=90))
    services.comments_anonymise_old_ips()
    assert ann.subscriber.consent_events.filter(ip_address="198.51.100.23").count() == 3
    assert Comment.objects.get(pk=ann.approved.pk).ip_address is None


def test_the_task_runs_the_service(settings):
    settings.REEX_IP_RETENTION_DAYS = 30
    _aged(31)
    assert tasks.anonymise_old_ips() == 1


def test_beat_runs_it_on_the_bulk_queue():
    entry = django_settings.CELERY_BEAT_SCHEDULE["privacy-anonymise-ips"]
    assert entry["task"] == tasks.anonymise_old_ips.name
    assert entry["options"]["queue"] == "bulk"  # type: ignore[index]
    assert tasks.anonymise_old_ips.queue == "bulk"  # type: ignore[attr-defined]
