import pytest
from django.utils import timezone

from comments import emails, tasks
from comments.models import Notification
from comments.services.notifications import notification_queue
from tests.comments.factories import CommentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _long_window(settings):
    """A window long enough that a slow machine still saves every row inside it."""
    settings.REEX_WAKE_SECONDS = 2


def owe_held_email(captured) -> Notification:
    comment = CommentFactory.create(checked_at=timezone.now(), reasons=["Held."])
    with captured(execute=True):
        notification_queue(comment, Notification.Kind.MODERATORS)
    return Notification.objects.get(comment=comment)


def test_emails_owed_while_a_sender_is_awake_publish_nothing(
    mocker, django_capture_on_commit_callbacks
):
    published = mocker.patch.object(tasks.send_notification, "delay")

    for _ in range(3):
        owe_held_email(django_capture_on_commit_callbacks)

    assert published.call_count == 1


def test_the_woken_sender_sends_the_emails_that_did_not_publish(
    mocker, django_capture_on_commit_callbacks
):
    published = mocker.patch.object(tasks.send_notification, "delay")
    first, *_later = [owe_held_email(django_capture_on_commit_callbacks) for _ in range(3)]

    tasks.send_notification(first.pk)

    assert published.call_count == 1
    assert Notification.objects.filter(sent_at=None).count() == 0


def test_a_failing_email_found_by_the_sender_gets_a_task_that_retries_it(
    mocker, django_capture_on_commit_callbacks
):
    published = mocker.patch.object(tasks.send_notification, "delay")
    first, second = [owe_held_email(django_capture_on_commit_callbacks) for _ in range(2)]
    real_messages = emails.notification_messages

    def refuse_second(notification: Notification):
        if notification.pk == second.pk:
            raise OSError("connection refused")
        return real_messages(notification)

    mocker.patch("comments.emails.notification_messages", refuse_second)

    tasks.send_notification(first.pk)

    assert [call.args for call in published.call_args_list] == [(first.pk,), (second.pk,)]
