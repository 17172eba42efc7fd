import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from comments.sanitize import ALLOWED_TAGS, count_links, sanitize
from tests.conftest import skip_or_fail

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "xss"


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def _elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def assert_nothing_executable(html: str) -> None:
    assert "<script" not in html.lower()
    for tag, attrs in _elements(html):
        assert tag in ALLOWED_TAGS
        for name, value in attrs:
            assert not name.startswith("on")
            assert name in ("href", "title", "rel")
            if name == "href":
                scheme = urlsplit((value or "").strip()).scheme.lower()
                assert scheme in ("http", "https", "mailto")


def _bleach_inputs() -> list[str]:
    if not (DATA / "bleach").is_dir():
        return []
    return [
        path.read_text().split("\n--\n")[0] for path in sorted((DATA / "bleach").glob("*.test"))
    ]


def _dompurify_inputs() -> list[str]:
    path = DATA / "dompurify" / "expect.json"
    if not path.is_file():
        return []
    return [str(case["payload"]) for case in json.loads(path.read_text())]


def test_it_keeps_the_allowed_tags():
    html = sanitize("<b>bold</b> <em>em</em> <code>x</code>")
    assert html == "<p><b>bold</b> <em>em</em> <code>x</code></p>"


def test_it_escapes_tags_outside_the_allowlist():
    html = sanitize('<img src=x onerror="alert(1)"> <script>alert(1)</script>')
    assert "<img" not in html
    assert "&lt;script&gt;" in html


def test_it_linkifies_urls_with_nofollow_ugc_noopener():
    html = sanitize("see https://example.org/page")
    assert '<a href="https://example.org/page" rel="nofollow ugc noopener">' in html


def test_it_overrides_the_rel_of_written_links():
    html = sanitize('<a href="https://example.org" rel="me" target="_blank">x</a>')
    assert html == '<p><a href="https://example.org" rel="nofollow ugc noopener">x</a></p>'


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", "data:text/html,hi", "vbscript:msgbox(1)", "JaVaScRiPt:x"]
)
def test_it_drops_links_with_dangerous_schemes(href):
    html = sanitize(f'<a href="{href}">click</a>')
    assert "href" not in html
    assert "click" in html


def test_it_keeps_mailto_links():
    assert 'href="mailto:ann@example.org"' in sanitize('<a href="mailto:ann@example.org">m</a>')


def test_it_turns_newlines_into_paragraphs_and_breaks():
    assert sanitize("one\ntwo\n\nthree") == "<p>one<br>two</p><p>three</p>"


def test_it_normalises_windows_newlines():
    assert sanitize("one\r\ntwo\r\n\r\nthree") == "<p>one<br>two</p><p>three</p>"


def test_it_does_not_break_lines_between_list_items():
    assert sanitize("<ul>\n<li>a</li>\n<li>b</li>\n</ul>") == "<ul><li>a</li><li>b</li></ul>"


def test_it_escapes_lone_angle_brackets_and_ampersands():
    assert sanitize("a < b & c") == "<p>a &lt; b &amp; c</p>"


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "one\ntwo\n\nthree http://example.org",
        "<pre>code\n\nmore</pre>",
        "<p onclick=x>hi</p>\n<blockquote>quote\nline</blockquote>",
        '<a href="javascript:x">a</a> <a title="t\nq" href="https://x.org">b</a>',
    ],
)
def test_sanitising_twice_changes_nothing(text):
    once = sanitize(text)
    assert sanitize(once) == once


def test_it_counts_links():
    assert count_links(sanitize("http://a.org and <a href='https://b.org'>b</a> and c")) == 2


def test_bleach_vectors_leave_nothing_executable_and_are_stable():
    inputs = _bleach_inputs()
    if not inputs:
        skip_or_fail(f"bleach XSS vectors not found under {DATA}")
    for text in inputs:
        once = sanitize(text)
        assert_nothing_executable(once)
        assert sanitize(once) == once, text


def test_dompurify_payloads_leave_nothing_executable_and_are_stable():
    payloads = _dompurify_inputs()
    if not payloads:
        skip_or_fail(f"DOMPurify payloads not found under {DATA}")
    assert len(payloads) > 200
    for text in payloads:
        once = sanitize(text)
        assert_nothing_executable(once)
        assert sanitize(once) == once, text
