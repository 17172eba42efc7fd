"""The public archive: a list's past editions and each one as it was emailed."""

from datetime import date
from http import HTTPStatus
from types import SimpleNamespace

import pytest

from subscriptions import edition_email
from subscriptions.models import Edition, MailingList
from tests.factories import EditionFactory

pytestmark = pytest.mark.django_db
State = Edition.State


def edition(mailing_list: MailingList, number: int, state: str, **fields) -> Edition:
    article = SimpleNamespace(
        key=f"s{number}", title=f"Story of edition {number}", url="https://news.example.org/s/"
    )
    rendered = edition_email.edition_render(
        content=edition_email.EditionContent(
            mailing_list=mailing_list,
            number=number,
            issue_date=date(2026, 7, number),
            articles=[article],
        )
    )
    return EditionFactory.create(
        mailing_list=mailing_list,
        number=number,
        state=state,
        issue_date=date(2026, 7, number),
        **{**rendered.fields(), **fields},
    )


def test_the_archive_lists_the_editions_readers_received_newest_first(client, daily):
    edition(daily, 1, State.SENT)
    edition(daily, 2, State.SKIPPED)
    edition(daily, 3, State.MISSED)
    edition(daily, 4, State.CANCELLED)  # cancelled before anything went out
    edition(daily, 5, State.CANCELLED, sent=10)
    edition(daily, 6, State.SENDING)
    edition(daily, 7, State.SCHEDULED)
    response = client.get("/newsletter/daily/")
    assert response.status_code == HTTPStatus.OK
    numbers = [e.number for e in response.context["page"].object_list]
    assert numbers == [6, 5, 1]
    assert b'href="/newsletter/daily/6/"' in response.content


def test_an_edition_page_is_the_emails_html_without_personal_links(client, daily):
    sent = edition(daily, 1, State.SENT)
    response = client.get("/newsletter/daily/1/")
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert body == edition_email.edition_public_html(edition=sent)
    assert "Story of edition 1" in body
    assert "Unsubscribe" not in body and "%%reex" not in body


def test_an_edition_page_may_use_the_emails_inline_styles_and_remote_images(client, daily):
    edition(daily, 1, State.SENT)
    policy = client.get("/newsletter/daily/1/")["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self'" in policy  # still no inline script


@pytest.mark.parametrize(
    "path",
    ["/newsletter/daily/2/", "/newsletter/daily/3/", "/newsletter/daily/99/", "/newsletter/nope/"],
)
def test_unknown_or_unsent_editions_and_lists_are_404(client, daily, path):
    edition(daily, 2, State.SCHEDULED)
    edition(daily, 3, State.MISSED)
    assert client.get(path).status_code == HTTPStatus.NOT_FOUND


def test_a_private_lists_archive_is_404(client, weekly):
    MailingList.objects.filter(pk=weekly.pk).update(is_public=False)
    edition(weekly, 1, State.SENT)
    assert client.get("/newsletter/weekly/").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/newsletter/weekly/1/").status_code == HTTPStatus.NOT_FOUND


def test_an_empty_archive_says_so(client, daily):
    response = client.get("/newsletter/daily/")
    assert b"No edition has been sent yet." in response.content


def test_the_archive_pages_through_many_editions(client, daily, django_assert_max_num_queries):
    for number in range(1, 36):
        EditionFactory.create(mailing_list=daily, number=number, state=State.SENT)
    with django_assert_max_num_queries(4):
        first = client.get("/newsletter/daily/")
    older = client.get("/newsletter/daily/?page=2")
    assert len(first.context["page"].object_list) == 30
    assert [e.number for e in older.context["page"].object_list] == [5, 4, 3, 2, 1]
