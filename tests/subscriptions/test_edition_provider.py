"""An edition through an email provider (anymail): one batch call, headers per recipient."""

import pytest
from anymail.exceptions import AnymailAPIError
from django.core import mail

from subscriptions import edition_delivery, edition_email, edition_provider, edition_sending
from subscriptions.models import Edition, EditionDelivery

State = EditionDelivery.State


@pytest.fixture(autouse=True)
def _provider(settings, mocker):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.REEX_SEND_RATE = 0
    settings.REEX_SEND_MAX_ERRORS = 10
    mocker.patch.object(edition_delivery, "ERROR_BACKOFF_SECONDS", 0)
    mocker.patch("subscriptions.tasks.send_edition_batch.delay")


def _emails(edition: Edition) -> list[str]:
    rows = EditionDelivery.objects.filter(edition=edition).order_by("id")
    return list(rows.values_list("subscriber__email", flat=True))


def test_an_edition_goes_out_in_one_provider_call_with_each_recipients_headers(edition):
    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 3

    assert len(mail.outbox) == 1
    params = getattr(mail.outbox[0], "anymail_test_params")  # noqa: B009 (set by anymail)
    assert params["is_batch_send"] is True
    assert sorted(to.addr_spec for to in params["to"]) == sorted(_emails(edition))
    for email in _emails(edition):
        headers = params["merge_headers"][email]
        unsubscribe = params["merge_data"][email]["reex_unsubscribe"]
        assert headers["List-Unsubscribe"] == f"<{unsubscribe}>"
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert headers["Message-ID"].startswith(f"<edition.{edition.pk}.")
        assert params["merge_data"][email]["reex_email"] == email
    assert len({h["Message-ID"] for h in params["merge_headers"].values()}) == 3
    # The body carries the provider's merge fields, never the placeholders or one address.
    assert "{{reex_unsubscribe}}" in params["html_body"]
    assert edition_email.UNSUBSCRIBE not in params["text_body"]
    edition.refresh_from_db()
    assert (edition.state, edition.sent) == (Edition.State.SENT, 3)


def test_a_recipient_the_provider_rejects_is_marked_failed(edition, mocker):
    from anymail.message import AnymailRecipientStatus

    rejected = _emails(edition)[0]
    real = edition_provider.batch_message

    def with_response(**kwargs):
        message = real(**kwargs)
        message.anymail_test_response = {
            "recipient_status": {
                email: AnymailRecipientStatus(
                    message_id=None, status="rejected" if email == rejected else "queued"
                )
                for email in _emails(edition)
            }
        }
        return message

    mocker.patch.object(edition_provider, "batch_message", side_effect=with_response)
    edition_sending.edition_batch_send(edition_id=edition.pk)

    failed = EditionDelivery.objects.get(edition=edition, state=State.FAILED)
    assert failed.subscriber.email == rejected
    assert failed.error == "provider: rejected"
    assert EditionDelivery.objects.filter(edition=edition, state=State.SENT).count() == 2


def test_a_provider_outage_gives_the_batch_back_and_counts_one_failure(edition, mocker):
    real = edition_provider.batch_message

    def failing(**kwargs):
        message = real(**kwargs)
        message.anymail_test_response = AnymailAPIError("503 from the provider")
        return message

    mocker.patch.object(edition_provider, "batch_message", side_effect=failing)
    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 0

    edition.refresh_from_db()
    assert edition.consecutive_errors == 1
    states = set(EditionDelivery.objects.filter(edition=edition).values_list("state", flat=True))
    assert states == {State.QUEUED}


def test_a_provider_without_merge_fields_gets_one_message_per_recipient(edition, mocker):
    mocker.patch.dict(edition_provider.MERGE_FIELDS, clear=True)

    assert edition_sending.edition_batch_send(edition_id=edition.pk) == 3

    assert sorted(m.to[0] for m in mail.outbox) == sorted(_emails(edition))
    for message in mail.outbox:
        assert message.to[0] in message.body
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
