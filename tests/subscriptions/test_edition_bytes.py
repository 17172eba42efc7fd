"""The edition's message generated once: each recipient's copy reads like the regular one."""

import smtplib
from datetime import date
from email import message_from_bytes, policy
from types import SimpleNamespace

import pytest

from subscriptions import edition_bytes, edition_email
from subscriptions.models import Edition, MailingList, Subscriber
from tests.factories import EditionFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def edition(settings) -> Edition:
    settings.REEX_BASE_URL = "https://news.example.org"
    settings.DEFAULT_FROM_EMAIL = "Daily News <news@example.org>"
    daily = MailingList.objects.get(slug="daily")
    articles = [
        SimpleNamespace(
            key=f"s{n}", title=f"Prices move {n}: à la hausse", summary=f"Summary {n} é.",
            url=f"https://news.example.org/s{n}/", image_url="", author="Ann",
        )
        for n in range(12)
    ]  # fmt: skip
    content = edition_email.EditionContent(
        mailing_list=daily, number=3, issue_date=date(2026, 7, 15), articles=articles
    )
    rendered = edition_email.edition_render(content=content)
    return EditionFactory.create(
        mailing_list=daily, number=3, state=Edition.State.SENDING, **rendered.fields()
    )


def _copy(prebuilt: edition_bytes.Prebuilt, edition: Edition, subscriber: Subscriber) -> bytes:
    values = edition_bytes.recipient_values(edition=edition, subscriber=subscriber)
    raw = prebuilt.bytes_for(**values)
    assert raw is not None
    return raw


def test_a_recipients_copy_reads_exactly_like_the_regular_message(edition):
    subscriber = SubscriberFactory.create(email="reader@example.org")
    prebuilt = edition_bytes.prebuilt_for(edition=edition)
    assert prebuilt is not None

    fast = _copy(prebuilt, edition, subscriber)
    regular = edition_email.edition_message_for(edition=edition, subscriber=subscriber)

    assert edition_bytes._reading(fast) == edition_bytes._reading(
        regular.message().as_bytes(linesep="\r\n")
    )
    parsed = message_from_bytes(fast, policy=policy.default)
    assert parsed["To"] == "reader@example.org"
    assert edition_email.UNSUBSCRIBE not in fast.decode()
    assert edition_bytes.TO not in fast.decode()


def test_two_recipients_get_their_own_link_and_message_id(edition):
    prebuilt = edition_bytes.prebuilt_for(edition=edition)
    assert prebuilt is not None
    one, two = SubscriberFactory.create_batch(2)
    first = message_from_bytes(_copy(prebuilt, edition, one), policy=policy.default)
    second = message_from_bytes(_copy(prebuilt, edition, two), policy=policy.default)
    assert first["List-Unsubscribe"] != second["List-Unsubscribe"]
    assert first["Message-ID"] != second["Message-ID"]


@pytest.mark.parametrize("email", ["zoë@example.org", "o'brien@example.org"])
def test_an_address_that_needs_encoding_takes_the_regular_path(edition, email):
    prebuilt = edition_bytes.prebuilt_for(edition=edition)
    assert prebuilt is not None
    subscriber = Subscriber(pk=5, email=email)
    values = edition_bytes.recipient_values(edition=edition, subscriber=subscriber)
    assert prebuilt.bytes_for(**values) is None


def test_stand_ins_cut_by_quoted_printable_make_every_message_regular(edition):
    # A line longer than SMTP allows is sent quoted-printable, which breaks lines
    # every 76 characters, through the stand-ins too.
    edition.html = ("<p>" + f"{edition_email.UNSUBSCRIBE} é " * 200 + "</p>\n") + edition.html
    assert edition_bytes.prebuilt_for(edition=edition) is None


def test_a_recipients_wire_copy_is_the_message_dot_stuffed_and_ended(edition):
    edition.text = ".a line starting with a dot\n" + edition.text
    subscriber = SubscriberFactory.create(email="reader.one+news@example.org")
    prebuilt = edition_bytes.prebuilt_for(edition=edition)
    assert prebuilt is not None
    values = edition_bytes.recipient_values(edition=edition, subscriber=subscriber)
    plain = prebuilt.bytes_for(**values)
    wire = prebuilt.wire_for(**values)
    assert plain is not None and wire is not None
    assert b"\r\n.a line" in plain
    assert wire.data == plain.replace(b"\r\n.", b"\r\n..") + b".\r\n"
    assert wire.size == len(plain)
    assert wire.recipient == "reader.one+news@example.org"


@pytest.mark.parametrize(
    "email", ["a@example.org", "first.last+tag@mail.example.co.uk", "x_y-z!#$%*/=?^`{|}~@h-1.org"]
)
def test_a_plain_address_is_one_sanitize_address_leaves_as_it_is(edition, email):
    from django.core.mail.message import sanitize_address

    prebuilt = edition_bytes.prebuilt_for(edition=edition)
    assert prebuilt is not None
    values = edition_bytes.recipient_values(
        edition=edition, subscriber=Subscriber(pk=7, email=email)
    )
    assert prebuilt.wire_for(**values) is not None
    assert sanitize_address(email, "utf-8") == email


@pytest.mark.parametrize(
    "email", ["zoë@example.org", "o'brien@example.org", "a..b@example.org", '"q"@example.org']
)
def test_an_address_smtp_or_html_would_quote_takes_the_regular_path(edition, email):
    prebuilt = edition_bytes.prebuilt_for(edition=edition)
    assert prebuilt is not None
    values = edition_bytes.recipient_values(
        edition=edition, subscriber=Subscriber(pk=7, email=email)
    )
    assert prebuilt.wire_for(**values) is None


def test_recipient_values_for_a_batch_are_the_regular_ones(edition):
    batch = edition_bytes.RecipientValues(edition)
    for pk, email in ((1, "a@example.org"), (123456, "b@example.org")):
        regular = edition_bytes.recipient_values(
            edition=edition, subscriber=Subscriber(pk=pk, email=email)
        )
        assert batch.values(subscriber_id=pk, email=email) == regular


def test_the_message_is_generated_once_per_edition_until_it_changes(edition, mocker):
    first = edition_bytes.prebuilt_for(edition=edition)
    generate = mocker.spy(edition_bytes, "_prebuilt")
    assert edition_bytes.prebuilt_for(edition=edition) is first
    assert generate.call_count == 0
    edition.subject = "Another subject"
    second = edition_bytes.prebuilt_for(edition=edition)
    assert generate.call_count == 1
    assert second is not None and b"Another subject" in second.raw


def test_a_wire_copy_over_smtp_arrives_as_the_recipients_message(edition):
    from devstack.smtp import SmtpSink

    edition.text = ".a line starting with a dot\n" + edition.text
    sink = SmtpSink()
    sink.start()
    try:
        subscriber = SubscriberFactory.create(email="reader@example.org")
        prebuilt = edition_bytes.prebuilt_for(edition=edition)
        assert prebuilt is not None
        values = edition_bytes.recipient_values(edition=edition, subscriber=subscriber)
        wire = prebuilt.wire_for(**values)
        assert wire is not None
        with smtplib.SMTP(sink.host, sink.port) as link:
            edition_bytes.smtp_send(link, sender=prebuilt.sender, wire=wire)
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                refused = edition_bytes.Wire(recipient="bad@", data=wire.data, size=wire.size)
                edition_bytes.smtp_send(link, sender=prebuilt.sender, wire=refused)
        received = sink.wait_for(lambda m: m["To"] == "reader@example.org")
        assert sink.envelopes[-1][1] == ["reader@example.org"]
        assert received["List-Unsubscribe"] == f"<{values['unsubscribe']}>"
        assert sink.last_raw == prebuilt.bytes_for(**values)  # byte for byte, dots undone
    finally:
        sink.stop()
