"""import_wxr: WordPress exports in, history kept, nothing moderated or emailed."""

from datetime import UTC, datetime

import pytest
from defusedxml import ElementTree
from django.core.management.base import CommandError

from comments.models import Article, Comment, ModerationEvent, Notification
from comments.selectors import article_comment_count, comment_list_public
from comments.services import comment_approve, comment_restore
from tests.comments.importing_helpers import DATA, comment_rows, run, shared_file
from tests.factories import ApprovedCommentFactory, CommentFactory

pytestmark = pytest.mark.django_db
Status, Kind = Comment.Status, Comment.Kind
FIXTURE = DATA / "wxr-statuses.xml"
SHARED_WITH_COMMENTS = [
    ("wordpress", "small-export.xml"),
    ("wordpress", "valid-wxr-1.0.xml"),
    ("wordpress", "valid-wxr-1.1.xml"),
    ("wordpress", "slashes.xml"),
    ("wordpress", "test-serialized-comment-meta.xml"),
    ("wordpress", "wxr-with-sub-data.xml"),
    ("wordpress", "e2e", "wxr-comprehensive.xml"),
    ("isso", "wordpress.xml"),
]
_TYPES = {"", "comment", "pingback", "trackback"}
_STATUS = {"1": "approved", "0": "pending", "spam": "spam", "trash": "trash", "": "approved"}


def _text(element, tag: str) -> str:
    return (element.findtext(tag) or "").strip()


def _dated(element, wp: str, *tags: str) -> bool:
    return any(_text(element, f"{wp}{tag}")[:4] not in ("", "0000") for tag in tags)


def _expected(path) -> tuple[int, dict[str, int]]:
    """Count, straight from the XML, the articles and the comments by status to import."""
    root = ElementTree.parse(path).getroot()
    wp = next(el.tag[: el.tag.index("}") + 1] for el in root.iter() if "wordpress.org" in el.tag)
    articles, statuses, seen = 0, dict[str, int](), set()
    for item in root.iter("item"):
        comments = item.findall(f"{wp}comment")
        kind = (_text(item, f"{wp}status"), _text(item, f"{wp}post_type"))
        if not _text(item, f"{wp}post_id"):
            continue
        articles += bool(comments) or kind in {("publish", "post"), ("publish", "page")}
        item_dated = _dated(item, wp, "post_date_gmt", "post_date")
        for c in comments:
            wanted = _text(c, f"{wp}comment_type") in _TYPES and _text(c, f"{wp}comment_content")
            dated = item_dated or _dated(c, wp, "comment_date_gmt", "comment_date")
            if wanted and dated and _text(c, f"{wp}comment_id") not in seen:
                seen.add(_text(c, f"{wp}comment_id"))
                status = _STATUS[_text(c, f"{wp}comment_approved")]
                statuses[status] = statuses.get(status, 0) + 1
    return articles, statuses


@pytest.mark.parametrize("parts", SHARED_WITH_COMMENTS, ids=lambda p: "/".join(p))
def test_the_shared_wordpress_exports_import_what_their_xml_holds(parts):
    path = shared_file(*parts)
    articles, statuses = _expected(path)
    run("import_wxr", path)
    assert Article.objects.count() == articles
    got = {s: Comment.objects.filter(status=s).count() for s in Status.values}
    assert {s: n for s, n in got.items() if n} == statuses


def test_isso_export_keeps_its_three_level_thread():
    run("import_wxr", shared_file("isso", "wordpress.xml"))
    assert Comment.objects.filter(depth=2).count() == 2
    deepest = Comment.objects.get(depth=2, body="Yet another reply.")
    top = Comment.objects.get(body="Zweiter.")
    assert Comment.objects.filter(replies=deepest, parent=top).exists()
    assert deepest.root == top


def test_it_imports_every_status_and_kind():
    summary = run("import_wxr", FIXTURE, timezone="Europe/Berlin")
    counts = {s: Comment.objects.filter(status=s).count() for s in Status.values}
    assert counts == {"approved": 7, "pending": 1, "spam": 1, "trash": 1}
    assert Comment.objects.get(kind=Kind.PINGBACK).author_url.startswith("https://metals.")
    assert Comment.objects.filter(kind=Kind.TRACKBACK).count() == 1
    assert "1 comment type 'order_note'" in summary
    assert "1 empty text" in summary
    assert "Comments imported: 10" in summary


def test_posts_become_articles_keyed_by_post_id():
    run("import_wxr", FIXTURE)
    lynas = Article.objects.get(key="101")
    assert lynas.title == "Lynas expands Malaysian plant"
    assert lynas.url == "https://news.example.org/lynas-expands/"
    assert lynas.published_at == datetime(2025, 1, 2, 8, 0, tzinfo=UTC)
    assert Article.objects.get(key="102").comments_open is False
    assert not Article.objects.filter(key="103").exists()  # a draft without comments


def test_replies_listed_before_their_parents_keep_the_thread():
    run("import_wxr", FIXTURE)
    ann = Comment.objects.get(author_name="Ann")
    dana = Comment.objects.get(author_name="Dana")
    carl = Comment.objects.get(author_name="Carl")
    assert (dana.depth, dana.parent, dana.root) == (3, carl, ann)
    assert carl.parent == Comment.objects.get(author_name="Bea")
    assert Comment.objects.get(author_name="Bea").parent == ann
    assert ann.parent is None and ann.depth == 0


def test_dates_come_from_gmt_or_the_sites_time_zone():
    run("import_wxr", FIXTURE, timezone="Europe/Berlin")
    assert Comment.objects.get(author_name="Ann").created_at == datetime(
        2025, 1, 2, 9, 0, tzinfo=UTC
    )
    # comment_date_gmt is 0000-00-00: its local 12:00 in Berlin is 11:00 UTC.
    assert Comment.objects.get(author_name="Eve").created_at == datetime(
        2025, 1, 3, 11, 0, tzinfo=UTC
    )


def test_a_trashed_comment_remembers_what_it_was():
    run("import_wxr", FIXTURE)
    finn = Comment.objects.get(author_name="Finn")
    assert (finn.status, finn.status_before_trash) == (Status.TRASH, Status.APPROVED)
    assert comment_restore(comment=finn, actor=None).status == Status.APPROVED


def test_imported_text_is_sanitised_like_new_comments():
    run("import_wxr", FIXTURE)
    bea = Comment.objects.get(author_name="Bea")
    ann = Comment.objects.get(author_name="Ann")
    assert "<script" not in bea.body_html and "<script>" in bea.body  # raw kept
    assert "onclick" not in ann.body_html
    assert 'rel="nofollow ugc noopener"' in ann.body_html
    assert ann.body_html.count("<p>") == 2
    assert ann.author_url == ""  # javascript: is no website


def test_what_cannot_be_kept_is_left_out_and_counted():
    summary = run("import_wxr", FIXTURE)
    assert Comment.objects.get(author_name="Eve").ip_address is None
    assert Comment.objects.get(author_email="gil@example.org").author_name == "Anonymous"
    assert Comment.objects.get(author_name="Dana").author_email == "dana@example.org"
    assert "1 invalid website left out" in summary
    assert "1 invalid IP address left out" in summary


def test_nothing_is_emailed_or_moderated(mailoutbox, no_delay, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run("import_wxr", FIXTURE)
    assert Comment.objects.count() == 10
    assert mailoutbox == []
    assert not no_delay["moderate"].called and not no_delay["notify"].called
    assert Notification.objects.count() == 0
    assert not Comment.objects.filter(checked_at=None).exists()


def test_each_imported_comment_has_one_audit_event():
    run("import_wxr", FIXTURE)
    spam = Comment.objects.get(status=Status.SPAM)
    [event] = spam.events.all()
    assert (event.rule, event.from_status, event.to_status) == ("import", "pending", "spam")
    assert ModerationEvent.objects.count() == Comment.objects.count()


def test_pingbacks_are_hidden_from_readers_by_default(client):
    run("import_wxr", FIXTURE)
    article = Article.objects.get(key="101")
    page = client.get("/articles/101/").content.decode()
    assert "Metals Weekly" not in page and "Mining Blog" not in page
    assert "Ann" in page
    assert article_comment_count(article=article) == 4
    assert not comment_list_public(article=article).exclude(kind=Kind.COMMENT).exists()


def _api_names(client) -> set[str]:
    page = client.get("/api/v1/articles/101/comments/").json()
    return {comment["author_name"] for comment in page["results"]}


def test_the_public_api_leaves_pingbacks_out_by_default(client):
    run("import_wxr", FIXTURE)
    assert _api_names(client) == {"Ann", "Bea", "Carl", "Dana"}
    assert client.get("/api/v1/articles/101/").json()["comment_count"] == 4


def test_the_public_api_shows_pingbacks_when_set(client, settings):
    settings.REEX_SHOW_PINGBACKS = True
    run("import_wxr", FIXTURE)
    assert {"Metals Weekly » Lynas roundup", "Mining Blog"} <= _api_names(client)


def test_a_setting_shows_pingbacks(client, settings):
    settings.REEX_SHOW_PINGBACKS = True
    run("import_wxr", FIXTURE)
    article = Article.objects.get(key="101")
    assert "Mining Blog" in client.get("/articles/101/").content.decode()
    assert article_comment_count(article=article) == 6


def test_a_re_run_changes_nothing():
    run("import_wxr", FIXTURE)
    before = (comment_rows(), ModerationEvent.objects.count(), list(Article.objects.values()))
    summary = run("import_wxr", FIXTURE)
    assert (comment_rows(), ModerationEvent.objects.count(), list(Article.objects.values())) == (
        before
    )
    assert "Comments imported: 0" in summary
    assert "10 already imported" in summary
    assert "2 unchanged" in summary


def test_a_dry_run_reports_and_writes_nothing():
    summary = run("import_wxr", FIXTURE, dry_run=True)
    assert "Comments imported: 10" in summary and "Dry run: nothing was written." in summary
    assert (
        Comment.objects.count() == Article.objects.count() == ModerationEvent.objects.count() == 0
    )


@pytest.mark.parametrize(
    "name", ["malformed.xml", "malformed-simple.xml", "invalid-version-tag.xml"]
)
def test_a_damaged_shared_export_is_refused_whole(name):
    with pytest.raises(CommandError, match="Nothing was imported"):
        run("import_wxr", shared_file("wordpress", name))
    assert Comment.objects.count() == Article.objects.count() == 0


def test_a_truncated_file_imports_nothing(tmp_path):
    text = FIXTURE.read_text(encoding="utf-8")
    truncated = tmp_path / "cut.xml"
    truncated.write_text(text[: int(len(text) * 0.8)], encoding="utf-8")  # comments before
    with pytest.raises(CommandError, match="not well-formed"):
        run("import_wxr", truncated)
    assert Comment.objects.count() == Article.objects.count() == 0


def test_entity_expansion_is_refused(tmp_path):
    bomb = tmp_path / "bomb.xml"
    lol = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 9))
    bomb.write_text(
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{lol}]>'
        '<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><title>&l8;</title>'
        "</item></channel></rss>"
    )
    with pytest.raises(CommandError, match="entities"):
        run("import_wxr", bomb)
    assert Article.objects.count() == 0


def test_each_file_is_its_own_transaction():
    with pytest.raises(CommandError):
        run("import_wxr", FIXTURE, shared_file("wordpress", "malformed.xml"))
    assert Comment.objects.count() == 10  # the good file before it stays imported


def test_a_moderator_sees_where_an_imported_comment_came_from(client, moderator):
    run("import_wxr", FIXTURE)
    pingback = Comment.objects.get(kind=Kind.PINGBACK)
    client.force_login(moderator)
    html = client.get(f"/admin/comments/comment/{pingback.pk}/change/").content.decode()
    assert "wordpress:https://news.example.org" in html and "Pingback" in html


@pytest.mark.parametrize(
    ("kind", "emails"), [(Kind.COMMENT, 1), (Kind.PINGBACK, 0), (Kind.TRACKBACK, 0)]
)
def test_approving_a_pingback_never_emails_anyone(kind, emails, no_delay):
    parent = ApprovedCommentFactory.create(notify_replies=True)
    reply = CommentFactory.create(article=parent.article, parent=parent, depth=1, kind=kind)
    comment_approve(comment=reply, actor=None)
    assert Notification.objects.filter(comment=reply).count() == emails


def test_the_source_option_tells_two_copies_apart(tmp_path):
    text = FIXTURE.read_text(encoding="utf-8")
    for name in ("a", "b"):
        (tmp_path / f"{name}.xml").write_text(text)
    run("import_wxr", tmp_path / "a.xml", source="old-blog")
    summary = run("import_wxr", tmp_path / "b.xml", source="other-blog")
    assert "Source: other-blog" in summary and "Comments imported: 10" in summary
    assert Comment.objects.filter(import_source="old-blog").count() == 10
