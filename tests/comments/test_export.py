"""export_comments: every comment out, and back in through the importers unchanged."""

import json

import pytest
from defusedxml import ElementTree
from django.core.management.base import CommandError

from comments.models import Article, Comment
from comments.services import comment_trash
from tests.comments.importing_helpers import DATA, comment_rows, run
from tests.factories import ApprovedCommentFactory, ArticleFactory, CommentFactory

pytestmark = pytest.mark.django_db
WP = "{http://wordpress.org/export/1.2/}"


@pytest.fixture
def site():
    """A site with imported history (every status and kind) and readers' own comments."""
    run("import_wxr", DATA / "wxr-statuses.xml", timezone="Europe/Berlin")
    ArticleFactory(key="already-known", url="https://news.example.org/already-known/")
    run("import_disqus", DATA / "disqus-export.xml")
    welcome = ArticleFactory(key="welcome", title="Welcome <to> reex & co")
    top = ApprovedCommentFactory(article=welcome, body="Tricky ]]> text <script>x</script>\n\nü")
    ApprovedCommentFactory(article=welcome, parent=top, depth=1, root=top, notify_replies=True)
    CommentFactory(article=welcome, user_agent="Mozilla/5.0", author_url="https://me.example/")
    comment_trash(comment=CommentFactory.create(article=welcome), actor=None)
    ArticleFactory(key="empty")
    return welcome


def _wipe() -> None:
    Comment.objects.all().delete()
    Article.objects.all().delete()


def _round_trip(tmp_path, fmt: str, importer: str) -> tuple[list, list]:
    before = comment_rows()
    out = tmp_path / f"export.{fmt}"
    run("export_comments", format=fmt, output=out)
    _wipe()
    run(importer, out)
    return before, comment_rows()


def test_a_wxr_export_imports_back_into_an_empty_database(site, tmp_path):
    articles = sorted(Article.objects.values_list("key", "title", "url", "comments_open"))
    before, after = _round_trip(tmp_path, "wxr", "import_wxr")
    assert len(before) == 20
    assert after == before  # dates to the second: WXR has no fractions
    assert sorted(Article.objects.values_list("key", "title", "url", "comments_open")) == [
        (key, title, url or f"http://testserver/articles/{key}/", is_open)
        for key, title, url, is_open in articles
    ]


def test_a_json_export_imports_back_with_everything(site, tmp_path):
    exact = sorted(Comment.objects.values_list("created_at", "user_agent", "body"))
    before, after = _round_trip(tmp_path, "json", "import_json")
    assert after == before
    assert sorted(Comment.objects.values_list("created_at", "user_agent", "body")) == exact


def test_the_wxr_file_is_what_wordpress_reads(site, tmp_path):
    out = tmp_path / "export.xml"
    run("export_comments", format="wxr", output=out)
    channel = ElementTree.parse(out).getroot().find("channel")
    assert channel.findtext(f"{WP}wxr_version") == "1.2"
    items = channel.findall("item")
    assert len(items) == Article.objects.count()
    ids = [int(item.findtext(f"{WP}post_id")) for item in items]
    assert len(set(ids)) == len(ids)  # WordPress maps posts by ID
    comments = [c for item in items for c in item.findall(f"{WP}comment")]
    assert len(comments) == Comment.objects.count()
    assert {c.findtext(f"{WP}comment_approved") for c in comments} == {"1", "0", "spam", "trash"}
    assert {c.findtext(f"{WP}comment_type") for c in comments} == {
        "comment", "pingback", "trackback"}  # fmt: skip


def test_one_articles_export(site, tmp_path):
    out = tmp_path / "welcome.json"
    run("export_comments", format="json", article="welcome", output=out)
    document = json.loads(out.read_text())
    [article] = document["articles"]
    assert article["key"] == "welcome"
    assert len(article["comments"]) == site.comments.count() == 4
    assert {c["status"] for c in article["comments"]} == {"approved", "pending", "trash"}


def test_exporting_an_unknown_article_is_an_error():
    with pytest.raises(CommandError, match="No article"):
        run("export_comments", article="nope")


def test_a_json_export_re_imported_adds_nothing(site, tmp_path):
    out = tmp_path / "export.json"
    run("export_comments", format="json", output=out)
    _wipe()
    run("import_json", out)
    before = comment_rows()
    assert "20 already imported" in run("import_json", out)
    assert comment_rows() == before


def test_a_truncated_json_export_imports_nothing(site, tmp_path):
    out = tmp_path / "export.json"
    run("export_comments", format="json", output=out)
    text = out.read_text()
    out.write_text(text[: len(text) // 2])
    _wipe()
    with pytest.raises(CommandError, match="not valid JSON"):
        run("import_json", out)
    assert Comment.objects.count() == Article.objects.count() == 0


def test_text_no_database_can_store_is_removed_on_import(tmp_path):
    path = tmp_path / "odd.json"
    comment = {"id": 1, "author_name": "A\x00nn\ud800", "body": "Hi\x00 there\udfff",
               "author_email": "ann@example.org", "status": "approved", "kind": "comment",
               "user_agent": "UA\x07", "created_at": "2024-05-02T10:00:00+00:00"}  # fmt: skip
    article = {"key": "odd", "title": "Odd\x01", "comments": [comment]}
    path.write_text(json.dumps({"format": "reex-comments", "articles": [article]}))
    run("import_json", path)
    saved = Comment.objects.get()
    assert (saved.author_name, saved.body, saved.user_agent) == ("Ann", "Hi there", "UA")
    assert saved.article.title == "Odd"
