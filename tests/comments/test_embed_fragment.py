"""GET /embed/articles/{key}/comments.html: the approved thread as HTML search engines read."""

from html.parser import HTMLParser
from http import HTTPStatus

import pytest

from comments import services
from comments.models import Comment
from tests.factories import ApprovedCommentFactory, ArticleFactory, CommentFactory

pytestmark = pytest.mark.django_db
SITE = "https://news.example.org"
Status = Comment.Status


def fragment_url(key: str) -> str:
    return f"/embed/articles/{key}/comments.html"


class Microdata(HTMLParser):
    """Collect each schema.org Comment item: its properties and its nesting."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict] = []
        self.stack: list[tuple[str, dict | None]] = []
        self.capture: list[tuple[dict, str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        item = None
        if a.get("itemtype") == "https://schema.org/Comment":
            parent = next((i for _, i in reversed(self.stack) if i is not None), None)
            item = {"props": {}, "parent": parent, "itemprop": a.get("itemprop")}
            self.items.append(item)
        prop, owner = a.get("itemprop"), self._owner()
        if prop and owner is not None and item is None:
            if prop == "dateCreated":
                owner["props"][prop] = a["datetime"]
            elif prop == "url" and "href" in a and a.get("class") == "reex-permalink":
                owner["props"][prop] = a["href"]
            elif prop in ("text", "name"):
                self.capture.append((owner, prop, []))
        if tag not in ("br", "img", "input"):
            self.stack.append((tag, item))

    def _owner(self):
        return next((i for _, i in reversed(self.stack) if i is not None), None)

    def handle_data(self, data):
        for _, _, parts in self.capture:
            parts.append(data)

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break
        if self.capture and tag in ("div", "span", "strong"):
            owner, prop, parts = self.capture.pop()
            owner["props"].setdefault(prop, "".join(parts).strip())


def items_of(html: str) -> list[dict]:
    parser = Microdata()
    parser.feed(html)
    return parser.items


def test_it_marks_up_each_approved_comment_as_a_schema_org_comment(client):
    article = ArticleFactory.create(key="p42", url=f"{SITE}/2026/rare-earths/")
    comment = ApprovedCommentFactory.create(
        article=article, author_name="Ann", body="Well said.", body_html="<p>Well said.</p>"
    )

    response = client.get(fragment_url("p42"))

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/html; charset=utf-8"
    [item] = items_of(response.content.decode())
    assert item["props"] == {
        "name": "Ann",
        "dateCreated": comment.created_at.isoformat(),
        "url": f"{SITE}/2026/rare-earths/#reex-comment-{comment.pk}",
        "text": "Well said.",
    }


def test_replies_nest_inside_their_parent_as_its_comment_property(client):
    article = ArticleFactory.create(key="p1")
    top = ApprovedCommentFactory.create(article=article, body="Top.")
    reply = ApprovedCommentFactory.create(article=article, parent=top, depth=1, body="Reply.")

    items = items_of(client.get(fragment_url("p1")).content.decode())

    assert [i["props"]["text"] for i in items] == ["Top.", "Reply."]
    assert items[0]["parent"] is None and items[0]["itemprop"] is None
    assert items[1]["parent"] is items[0] and items[1]["itemprop"] == "comment"
    assert f'data-id="{reply.pk}" data-depth="1"' in client.get(fragment_url("p1")).content.decode()


def test_it_shows_approved_comments_only_and_counts_them(client):
    article = ArticleFactory.create(key="p1")
    ApprovedCommentFactory.create(article=article, body="Published.")
    for status in (Status.PENDING, Status.SPAM, Status.TRASH):
        CommentFactory.create(article=article, status=status, body=f"Hidden {status}.")

    html = client.get(fragment_url("p1")).content.decode()

    assert "Published." in html
    assert "Hidden" not in html
    assert 'data-count="1"' in html and "1 Comment<" in html


def test_it_never_shows_an_email_or_ip_address(client):
    article = ArticleFactory.create(key="p1")
    ApprovedCommentFactory.create(
        article=article, author_email="secret@example.org", ip_address="203.0.113.7"
    )

    html = client.get(fragment_url("p1")).content.decode()

    assert "secret@example.org" not in html
    assert "203.0.113.7" not in html


def test_it_escapes_names_and_links_authors_with_nofollow(client):
    article = ArticleFactory.create(key="p1")
    ApprovedCommentFactory.create(
        article=article, author_name="<b>Bob</b>", author_url="https://bob.example/"
    )

    html = client.get(fragment_url("p1")).content.decode()

    assert "&lt;b&gt;Bob&lt;/b&gt;" in html
    assert 'href="https://bob.example/" rel="nofollow ugc noopener" itemprop="url"' in html


def test_it_says_whether_readers_may_still_comment(client):
    ArticleFactory.create(key="open")
    ArticleFactory.create(key="shut", comments_open=False)

    assert 'data-open="1"' in client.get(fragment_url("open")).content.decode()
    assert 'data-open="0"' in client.get(fragment_url("shut")).content.decode()


def test_an_unknown_article_is_a_404(client):
    assert client.get(fragment_url("nope")).status_code == HTTPStatus.NOT_FOUND


def test_a_comment_approved_after_the_fragment_was_cached_appears(
    client, django_capture_on_commit_callbacks
):
    article = ArticleFactory.create(key="p1")
    comment = CommentFactory.create(article=article, body="Waiting for a moderator.")
    assert 'data-count="0"' in client.get(fragment_url("p1")).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.comment_approve(comment=comment, actor=None)

    html = client.get(fragment_url("p1")).content.decode()
    assert 'data-count="1"' in html
    assert "Waiting for a moderator." in html


def test_a_comment_marked_spam_after_the_fragment_was_cached_disappears(
    client, django_capture_on_commit_callbacks
):
    comment = ApprovedCommentFactory.create(article=ArticleFactory.create(key="p1"), body="Buy.")
    assert "Buy." in client.get(fragment_url("p1")).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.comment_mark_spam(comment=comment, actor=None)

    assert "Buy." not in client.get(fragment_url("p1")).content.decode()


def test_a_cached_fragment_is_served_without_reading_the_database(
    client, django_assert_num_queries
):
    ApprovedCommentFactory.create_batch(2, article=ArticleFactory.create(key="p1"))
    first = client.get(fragment_url("p1")).content

    with django_assert_num_queries(0):
        again = client.get(fragment_url("p1"), {"junk": "1"}).content

    assert again == first


def test_a_site_on_a_cors_origin_may_read_it(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [SITE]
    ArticleFactory.create(key="p1")

    response = client.get(fragment_url("p1"), headers={"Origin": SITE})

    assert response["Access-Control-Allow-Origin"] == SITE
    assert "Access-Control-Allow-Credentials" not in response
    assert response["Cache-Control"] == "no-cache"


def test_another_origin_may_not_read_it(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [SITE]
    ArticleFactory.create(key="p1")

    response = client.get(fragment_url("p1"), headers={"Origin": "https://evil.example"})

    assert "Access-Control-Allow-Origin" not in response
