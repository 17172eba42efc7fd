"""Reading WordPress-shaped RSS 2.0 and Atom feeds into articles' fields (no network)."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from comments.feed_poll import (
    KEY_LENGTH,
    SUMMARY_LENGTH,
    FeedMalformed,
    article_key,
    feed_parse,
    summary_from_html,
)

DATA = Path(__file__).parent / "data"
RSS = (DATA / "wordpress-rss2.xml").read_bytes()
ATOM = (DATA / "wordpress-atom.xml").read_bytes()
SITE = "https://rareearthexchanges.example"


def rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>'
        f"<link>{SITE}</link>{''.join(items)}</channel></rss>"
    ).encode()


def item(*, guid: str = "", link: str = "", title: str = "A title", extra: str = "") -> str:
    guid_tag = f'<guid isPermaLink="false">{guid}</guid>' if guid else ""
    link_tag = f"<link>{link}</link>" if link else ""
    return f"<item><title>{title}</title>{link_tag}{guid_tag}{extra}</item>"


@pytest.fixture(scope="module")
def wordpress():
    return {item.key: item for item in feed_parse(RSS).items}


@pytest.fixture(scope="module")
def atom():
    return {item.key: item for item in feed_parse(ATOM).items}


# --- keys -----------------------------------------------------------------------------


def test_the_key_is_the_wordpress_post_id_from_the_guid(wordpress):
    assert list(wordpress) == ["4812", "4790", "2024-05-10-mp-materials-q1-results"]


def test_the_key_is_a_slug_of_the_links_path_without_a_post_id():
    assert article_key(guid="", link=f"{SITE}/news/Rare%20Earths_Q1/") == "news-rare-earths_q1"


def test_a_post_id_in_the_link_serves_when_the_guid_has_none():
    assert article_key(guid="tag:x,2024:1", link=f"{SITE}/?p=77") == "77"


def test_a_p_parameter_that_is_not_a_number_is_not_a_post_id():
    assert article_key(guid=f"{SITE}/?p=abc", link=f"{SITE}/news/x/") == "news-x"


def test_long_paths_make_bounded_keys_that_stay_apart():
    first = article_key(guid="", link=f"{SITE}/{'a' * 300}/one/")
    second = article_key(guid="", link=f"{SITE}/{'a' * 300}/two/")
    assert len(first) <= KEY_LENGTH and len(second) <= KEY_LENGTH
    assert first != second


# --- fields ---------------------------------------------------------------------------


def test_titles_have_their_entities_decoded(wordpress):
    assert wordpress["4812"].title == "China\u2019s Rare Earth Exports Fall 12% & Prices Climb"
    assert wordpress["4790"].title == "Lynas Opens Its Texas Plant: “A Milestone”"


def test_double_encoded_titles_are_decoded_too():
    parsed = feed_parse(rss(item(guid=f"{SITE}/?p=5", title="Lynas&amp;#8217; plant")))
    assert parsed.items[0].title == "Lynas\u2019 plant"


def test_the_summary_drops_read_more_and_the_appeared_first_footer(wordpress):
    assert wordpress["4812"].summary == (
        "China\u2019s exports of rare earth magnets fell 12% in April, customs data showed, "
        "as buyers in Europe held back orders."
    )


def test_a_cut_excerpt_ends_with_one_ellipsis_instead_of_the_bracket(wordpress):
    summary = wordpress["4790"].summary
    assert summary.endswith("the first outside China to…")
    assert "[" not in summary


def test_the_summary_is_plain_text_without_scripts(wordpress):
    assert wordpress["2024-05-10-mp-materials-q1-results"].summary == (
        "Revenue fell as NdPr prices stayed low."
    )


@pytest.mark.parametrize(
    "footer",
    [
        '<a href="/x/">Read more »</a>',
        '<a class="more-link" href="/x/">Continue reading <span>Its title</span></a>',
        "[…]",
        "Read More…",
    ],
)
def test_each_wordpress_continuation_is_dropped(footer):
    assert summary_from_html(f"<p>Prices rose.</p> {footer}") == "Prices rose."


def test_ordinary_links_keep_their_text():
    assert summary_from_html('<p>See <a href="/r/">the report</a>.</p>') == "See the report."


def test_a_link_that_only_starts_with_more_keeps_its_text():
    fragment = '<p>Prices rose. <a href="/m/">More rare earth news</a> soon.</p>'
    assert summary_from_html(fragment) == "Prices rose. More rare earth news soon."


def test_a_long_summary_is_cut_at_a_word():
    summary = summary_from_html("<p>" + "magnet " * 200 + "</p>")
    assert len(summary) <= SUMMARY_LENGTH
    assert summary.endswith("magnet…")


def test_the_link_is_the_url(wordpress):
    assert wordpress["4790"].url == f"{SITE}/news/lynas-texas-plant/"


def test_dates_are_converted_to_utc(wordpress):
    assert wordpress["4812"].published_at == datetime(2024, 5, 14, 7, 30, tzinfo=UTC)
    mp = wordpress["2024-05-10-mp-materials-q1-results"]
    assert mp.published_at == datetime(2024, 5, 11, 3, 15, tzinfo=UTC)


def test_the_author_comes_from_dc_creator(wordpress):
    assert wordpress["4812"].author == "Jane Doe"
    assert wordpress["2024-05-10-mp-materials-q1-results"].author is None


def test_an_rss_author_with_an_address_gives_the_name_only():
    author = "<author>jane@rareearthexchanges.example (Jane Doe)</author>"
    parsed = feed_parse(rss(item(guid=f"{SITE}/?p=5", extra=author)))
    assert parsed.items[0].author == "Jane Doe"


def test_an_rss_author_that_is_only_an_address_is_left_out():
    author = "<author>jane@rareearthexchanges.example</author>"
    parsed = feed_parse(rss(item(guid=f"{SITE}/?p=5", extra=author)))
    assert parsed.items[0].author is None


def test_the_image_comes_from_media_content_enclosure_or_thumbnail(wordpress):
    uploads = f"{SITE}/wp-content/uploads/2024/05"
    assert wordpress["4812"].image_url == f"{uploads}/magnets-1024x683.jpg"
    # The audio enclosure comes first and is not an image.
    assert wordpress["4790"].image_url == f"{uploads}/seadrift.jpg"
    assert wordpress["2024-05-10-mp-materials-q1-results"].image_url == f"{uploads}/mp-150x150.jpg"


def test_an_item_without_date_leaves_the_date_unset():
    parsed = feed_parse(rss(item(guid=f"{SITE}/?p=5")))
    assert parsed.items[0].published_at is None
    assert parsed.items[0].summary is None


# --- Atom -----------------------------------------------------------------------------


def test_atom_entries_map_like_rss_items(atom):
    china = atom["4812"]
    assert china.title == "China\u2019s Rare Earth Exports Fall 12% & Prices Climb"
    assert china.published_at == datetime(2024, 5, 14, 7, 30, tzinfo=UTC)
    assert china.author == "Jane Doe"
    assert china.summary.endswith("held back orders…")


def test_an_atom_entry_without_post_id_or_published_date(atom):
    index = atom["news-neodymium-price-index"]
    assert index.published_at == datetime(2024, 5, 13, 11, 0, tzinfo=UTC)
    assert index.summary == "NdPr oxide closed the week at $52.10/kg."


# --- what is left out -----------------------------------------------------------------


def test_an_item_without_any_key_is_reported_and_the_others_go_on():
    parsed = feed_parse(rss(item(title="No link"), item(guid=f"{SITE}/?p=5")))
    assert [found.key for found in parsed.items] == ["5"]
    assert len(parsed.problems) == 1
    assert "No link" in parsed.problems[0]


def test_an_item_without_a_title_is_reported():
    parsed = feed_parse(rss(item(guid=f"{SITE}/?p=5", title="")))
    assert parsed.items == []
    assert "no title" in parsed.problems[0]


def test_a_repeated_guid_keeps_the_first_item():
    parsed = feed_parse(
        rss(item(guid=f"{SITE}/?p=5", title="Newer"), item(guid=f"{SITE}/?p=5", title="Older"))
    )
    assert [found.title for found in parsed.items] == ["Newer"]
    assert "repeats" in parsed.problems[0]


# --- documents ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        RSS[: RSS.index(b"<media:content")],  # cut off mid-item
        b"<html><body><h1>Maintenance</h1></body></html>",
        b"",
        b"\x00\x01 not xml",
        b'{"items": []}',
    ],
)
def test_a_malformed_document_is_refused_whole(document):
    with pytest.raises(FeedMalformed):
        feed_parse(document)


def test_blank_lines_before_the_xml_declaration_are_forgiven():
    assert len(feed_parse(b"\n\n  " + RSS).items) == 3


def test_an_html_entity_undefined_in_xml_is_forgiven():
    parsed = feed_parse(rss(item(guid=f"{SITE}/?p=5", title="Rare&nbsp;earths")))
    assert parsed.items[0].title == "Rare earths"
