import pytest

from subscriptions import consent, sending, services, tasks
from subscriptions.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _long_window(settings):
    """A window long enough that a slow machine still saves every row inside it."""
    settings.REEX_WAKE_SECONDS = 2


def sign_up(email, daily, requester, captured) -> None:
    with captured(execute=True):
        services.subscription_request(
            email=email, lists=[daily], consent=consent.CURRENT, requester=requester
        )


def test_sign_ups_while_a_sender_is_awake_publish_nothing(
    daily, form_requester, delay, django_capture_on_commit_callbacks
):
    for n in range(3):
        sign_up(f"r{n}@example.org", daily, form_requester, django_capture_on_commit_callbacks)

    assert delay.call_count == 1


def test_the_woken_sender_sends_the_confirmations_saved_while_it_ran(
    daily, form_requester, delay, mailoutbox, mocker, django_capture_on_commit_callbacks
):
    sign_up("first@example.org", daily, form_requester, django_capture_on_commit_callbacks)
    first = Delivery.objects.get()
    real_send = sending.deliveries_send

    def send_while_two_more_sign_up(*, delivery_ids):
        sent = real_send(delivery_ids=delivery_ids)
        for n in range(2):
            sign_up(f"r{n}@example.org", daily, form_requester, django_capture_on_commit_callbacks)
        return sent

    mocker.patch.object(sending, "deliveries_send", send_while_two_more_sign_up)

    tasks.send_deliveries([first.pk])

    assert sorted(m.to[0] for m in mailoutbox) == [
        "first@example.org",
        "r0@example.org",
        "r1@example.org",
    ]
    assert delay.call_count == 1


def test_a_sender_that_fails_hands_over_to_a_task_that_sends_what_came_meanwhile(
    daily, form_requester, delay, mailoutbox, mocker, django_capture_on_commit_callbacks
):
    """The window stays open for the task handed over to (requests that saw it open rely on
    it): a sign-up meanwhile publishes nothing and that task's last drain sends it."""
    sign_up("first@example.org", daily, form_requester, django_capture_on_commit_callbacks)
    first = Delivery.objects.get()
    failing = mocker.patch.object(sending, "deliveries_send", side_effect=RuntimeError("down"))

    with pytest.raises(RuntimeError):
        sending.deliveries_send_woken(delivery_ids=[first.pk])
    sign_up("later@example.org", daily, form_requester, django_capture_on_commit_callbacks)

    assert [call.args for call in delay.call_args_list] == [([first.pk],), ([],)]
    mocker.stop(failing)
    sending.deliveries_send_woken(delivery_ids=[])  # the task handed over to
    assert sorted(m.to[0] for m in mailoutbox) == ["first@example.org", "later@example.org"]
