"""The edition's email: rendered once, filled per recipient, built for mail clients."""

import re
from datetime import date
from html.parser import HTMLParser
from http import HTTPStatus
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.test import Client

from subscriptions import edition_email
from subscriptions.models import Edition, MailingList, Subscription
from tests.factories import EditionFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def story(n: int, **fields: object) -> SimpleNamespace:
    defaults = {
        "key": f"story-{n}",
        "title": f"Story {n}",
        "url": f"https://news.example.org/story-{n}/",
        "summary": f"The summary of story {n}.",
        "image_url": f"https://cdn.example.org/story-{n}.jpg",
        "author": f"Author {n}",
    }
    return SimpleNamespace(**{**defaults, **fields})


@pytest.fixture(autouse=True)
def _site(settings):
    settings.REEX_BASE_URL = "https://news.example.org"
    settings.DEFAULT_FROM_EMAIL = "Daily News <news@example.org>"


def render(daily: MailingList, articles: list, conversations: list | None = None):
    content = edition_email.EditionContent(
        mailing_list=daily,
        number=7,
        issue_date=date(2026, 7, 15),
        articles=articles,
        conversations=conversations or [],
    )
    return edition_email.edition_render(content=content)


def saved(daily: MailingList, rendered: edition_email.Rendered) -> Edition:
    return EditionFactory.create(
        mailing_list=daily, number=7, state=Edition.State.SENDING, **rendered.fields()
    )


class Links(HTMLParser):
    """Collect every link (href and text), image and the body's text."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.images: list[dict[str, str | None]] = []
        self.text: list[str] = []
        self._href: str | None = None
        self._link_text: list[str] = []
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        if tag == "head":
            self._in_head = True
        if tag == "a":
            self._href, self._link_text = dict(attrs).get("href"), []
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag == "head":
            self._in_head = False
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._link_text).strip()))
            self._href = None

    def handle_data(self, data):
        if self._href is not None:
            self._link_text.append(data)
        if not self._in_head and data.strip():
            self.text.append(data.strip())


def parse(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def test_each_article_shows_its_title_link_summary_image_and_author(daily):
    rendered = render(daily, [story(1)])
    page = parse(rendered.html)
    assert ("https://news.example.org/story-1/", "Story 1") in page.links
    assert "The summary of story 1." in page.text
    assert "By Author 1" in page.text
    assert page.images[0]["src"] == "https://cdn.example.org/story-1.jpg"
    assert "The summary of story 1." in rendered.text
    assert "By Author 1" in rendered.text


def test_an_article_without_image_summary_or_author_shows_its_title_alone(daily):
    rendered = render(daily, [story(1, image_url="", summary="", author="")])
    page = parse(rendered.html)
    assert page.images == []
    assert "By" not in " ".join(page.text)
    assert ("https://news.example.org/story-1/", "Story 1") in page.links


def test_an_article_without_url_links_to_its_page_here(daily):
    page = parse(render(daily, [story(1, url="")]).html)
    assert ("https://news.example.org/articles/story-1/", "Story 1") in page.links


def test_images_carry_width_height_and_alt_text(daily):
    image = parse(render(daily, [story(1)]).html).images[0]
    assert (image["width"], image["height"], image["alt"]) == ("536", "302", "Story 1")


def test_the_layout_is_a_600_pixel_table_with_inlined_css(daily):
    html = render(daily, [story(1)]).html
    assert re.search(r'<table[^>]+class="sheet"[^>]+width="600"', html)
    # The rules of the style sheet are on the elements themselves now.
    title_link = re.search(r'<h2 class="title"[^>]*style="([^"]+)"', html)
    assert title_link and "font-family: Georgia" in title_link.group(1)
    assert "color: #0b57a4" in html


def test_dark_mode_rules_and_the_color_scheme_survive_inlining(daily):
    html = render(daily, [story(1)]).html
    assert '<meta name="color-scheme" content="light dark">' in html
    assert "@media (prefers-color-scheme: dark)" in html


def test_the_preheader_is_the_first_visible_text_the_first_summary(daily):
    page = parse(render(daily, [story(1), story(2)]).html)
    assert page.text[0] == "The summary of story 1."


def test_without_summaries_the_preheader_names_the_titles(daily):
    rendered = render(daily, [story(1, summary=""), story(2, summary="")])
    assert parse(rendered.html).text[0] == "Story 1; Story 2"
    assert rendered.text.startswith("Story 1; Story 2")


def test_nothing_is_hidden(daily):
    html = render(daily, [story(1)]).html.lower().replace(" ", "")
    for hidden in ("display:none", "visibility:hidden", "font-size:0", "max-height:0", "opacity:0"):
        assert hidden not in html


def test_no_link_text_names_another_domain_than_its_target(daily):
    rendered = render(daily, [story(1)], [conversation()])
    message = edition_email.edition_message_for(
        edition=saved(daily, rendered), subscriber=subscriber(daily)
    )
    html = str(message.alternatives[0][0])
    domain = re.compile(r"\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b", re.IGNORECASE)
    links = parse(html).links
    assert len(links) >= 5
    for href, text in links:
        for named in domain.findall(text):
            assert (urlsplit(href).hostname or "").endswith(named.lower()), (href, text)


def test_the_mail_has_more_text_than_images(daily):
    page = parse(render(daily, [story(1)]).html)
    assert len(" ".join(page.text)) > 200
    assert len(page.images) == 1


def test_the_subject_names_the_list_and_the_top_story(daily):
    assert render(daily, [story(1), story(2), story(3)]).subject == (
        "Daily News Update: Story 1 (and 2 more)"
    )


def conversation() -> SimpleNamespace:
    return SimpleNamespace(
        article=story(2),
        comment_count=4,
        author_name="Ann",
        excerpt="Lanthanum prices will fall.",
        url="https://news.example.org/story-2/#comments",
    )


def test_the_conversations_end_the_edition_with_an_excerpt_and_a_link(daily):
    rendered = render(daily, [story(1)], [conversation()])
    page = parse(rendered.html)
    assert ("https://news.example.org/story-2/#comments", "Join the conversation") in page.links
    assert "Lanthanum prices will fall. (Ann)" in page.text
    assert "4 new comments in the last day" in page.text
    assert "FROM THE COMMENTS" in rendered.text
    assert "Join the conversation: https://news.example.org/story-2/#comments" in rendered.text


def subscriber(daily: MailingList):
    subscription = SubscriptionFactory.create(
        mailing_list=daily,
        status=Subscription.Status.CONFIRMED,
        subscriber__email="o'hara&co@example.org",
    )
    return subscription.subscriber


def test_a_recipients_message_fills_in_the_address_and_the_unsubscribe_link(daily):
    person = subscriber(daily)
    edition = saved(daily, render(daily, [story(1)]))
    message = edition_email.edition_message_for(edition=edition, subscriber=person)
    html = str(message.alternatives[0][0])
    unsubscribe = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.to == ["o'hara&co@example.org"]
    assert "o&#x27;hara&amp;co@example.org" in html
    assert "o'hara&co@example.org" in message.body
    assert (unsubscribe, "Unsubscribe") in parse(html).links
    assert f"Unsubscribe in one click: {unsubscribe}" in message.body
    assert "%%reex" not in html and "%%reex" not in message.body


def test_the_message_carries_the_one_click_list_headers(daily):
    message = edition_email.edition_message_for(
        edition=saved(daily, render(daily, [story(1)])), subscriber=subscriber(daily)
    )
    headers = message.message()
    assert headers["List-Unsubscribe"].startswith("<https://news.example.org/subscriptions/")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Id"] == "Daily News Update <daily.news.example.org>"
    assert headers["List-Archive"] == "<https://news.example.org/newsletter/daily/>"


def test_the_mailto_unsubscribe_is_added_when_configured(daily, settings):
    settings.REEX_NEWSLETTER_UNSUBSCRIBE_MAILTO = "leave@news.example.org"
    message = edition_email.edition_message_for(
        edition=saved(daily, render(daily, [story(1)])), subscriber=subscriber(daily)
    )
    value = message.extra_headers["List-Unsubscribe"]
    assert value.endswith(", <mailto:leave@news.example.org?subject=unsubscribe%20daily>")


def test_the_one_click_header_unsubscribes(daily):
    person = subscriber(daily)
    message = edition_email.edition_message_for(
        edition=saved(daily, render(daily, [story(1)])), subscriber=person
    )
    url = urlsplit(message.extra_headers["List-Unsubscribe"].strip("<>"))
    response = Client(enforce_csrf_checks=True).post(
        url.path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == HTTPStatus.OK
    assert Subscription.objects.get(subscriber=person).status == Subscription.Status.UNSUBSCRIBED


def test_the_message_id_is_on_the_sites_domain_and_stable_per_recipient(daily):
    edition = saved(daily, render(daily, [story(1)]))
    person = subscriber(daily)
    first = edition_email.edition_message_for(edition=edition, subscriber=person).message()
    again = edition_email.edition_message_for(edition=edition, subscriber=person).message()
    assert first["Message-ID"].endswith("@news.example.org>")
    assert "localhost" not in first["Message-ID"]
    assert first["Message-ID"] == again["Message-ID"]
    other = SubscriptionFactory.create(mailing_list=daily).subscriber
    third = edition_email.edition_message_for(edition=edition, subscriber=other).message()
    assert third["Message-ID"] != first["Message-ID"]


def test_the_message_has_a_plain_text_part_and_an_html_part(daily):
    message = edition_email.edition_message_for(
        edition=saved(daily, render(daily, [story(1)])), subscriber=subscriber(daily)
    )
    parts = [part.get_content_type() for part in message.message().walk()]
    assert parts == ["multipart/alternative", "text/plain", "text/html"]
    assert "Read: https://news.example.org/story-1/" in message.body


def test_the_message_links_to_the_edition_in_the_archive(daily):
    message = edition_email.edition_message_for(
        edition=saved(daily, render(daily, [story(1)])), subscriber=subscriber(daily)
    )
    archive = "https://news.example.org/newsletter/daily/7/"
    assert (archive, "View in your browser") in parse(str(message.alternatives[0][0])).links
    assert f"View in your browser: {archive}" in message.body


def test_the_archive_copy_has_nothing_personal(daily):
    edition = saved(daily, render(daily, [story(1)]))
    public = edition_email.edition_public_html(edition=edition)
    assert "Unsubscribe" not in public
    assert "View in your browser" not in public
    assert "%%reex" not in public
    assert "Story 1" in public


def test_a_test_copy_is_marked_and_carries_no_working_unsubscribe_link(daily):
    edition = saved(daily, render(daily, [story(1)]))
    message = edition_email.edition_test_message(edition=edition, to="editor@example.org")
    assert message.subject.startswith("[Test] ")
    assert "/subscriptions/unsubscribe/" not in message.extra_headers["List-Unsubscribe"]


def test_a_title_naming_another_domain_is_not_link_text(daily):
    rendered = render(
        daily,
        [story(1, title="Reuters.com: lanthanum up", url="https://news.example.org/la/")],
        [conversation()],
    )
    page = parse(rendered.html)
    assert ("https://news.example.org/la/", "Reuters.com: lanthanum up") not in page.links
    assert "Reuters.com: lanthanum up" in page.text
    assert ("https://news.example.org/la/", "Read more") in page.links


def test_a_title_naming_its_own_domain_stays_a_link(daily):
    page = parse(render(daily, [story(1, title="What news.example.org covers")]).html)
    assert ("https://news.example.org/story-1/", "What news.example.org covers") in page.links
