"""The edition's message generated once: each recipient's copy reads like the regular one."""

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
