"""import_disqus: Disqus XML exports in, threads matched to articles by URL or link."""

import gzip
from datetime import UTC, datetime

import pytest
from defusedxml import ElementTree
from django.core.management.base import CommandError

from comments.importing.keys import article_key
from comments.models import Article, Comment
from tests.comments.importing_helpers import DATA, comment_rows, run, shared_file
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db
Status = Comment.Status
FIXTURE = DATA / "disqus-export.xml"
DSQ = "{http://disqus.com/disqus-internals}id"
NS = "{http://disqus.com}"


@pytest.fixture
def known_article():
    return ArticleFactory(key="already-known", url="https://news.example.org/already-known/")


def test_posts_keep_status_author_date_and_thread(known_article):
    run("import_disqus", FIXTURE)
    counts = {s: Comment.objects.filter(status=s).count() for s in Status.values}
    assert counts == {"approved": 3, "pending": 1, "spam": 1, "trash": 1}
    cy = Comment.objects.get(author_name="Cy")
    bo, ava = Comment.objects.get(author_name="Bo"), Comment.objects.get(author_name="Ava")
    assert (cy.parent, cy.depth, cy.root) == (bo, 2, ava)
    assert (bo.parent, ava.parent) == (ava, None)
    assert cy.created_at == datetime(2021, 3, 1, 12, 0, tzinfo=UTC)
    assert (cy.author_email, str(cy.ip_address)) == ("cy@example.org", "198.51.100.3")


def test_deleted_goes_to_trash_and_spam_to_spam(known_article):
    run("import_disqus", FIXTURE)
    dee = Comment.objects.get(author_name="Dee")
    assert (dee.status, dee.status_before_trash) == (Status.TRASH, Status.APPROVED)
    assert Comment.objects.get(author_name="Magnets").status == Status.SPAM
    eli = Comment.objects.get(author_name="Eli")
    assert (eli.status, eli.author_email) == (Status.PENDING, "")


def test_threads_find_their_article_by_url_or_become_one(known_article):
    summary = run("import_disqus", FIXTURE)
    # The export's http:// link is the article's https:// URL: the same article.
    assert Comment.objects.get(author_name="Dee").article == known_article
    mp = Article.objects.get(key="2041")  # the Disqus WordPress plugin's identifier
    assert (mp.title, mp.url) == (
        "MP Materials results",
        "https://news.example.org/mp-materials-results/",
    )
    assert mp.comments.count() == 4
    assert not Article.objects.filter(title="Nobody commented").exists()
    assert "1 created" in summary and "1 unchanged" in summary


def test_a_post_of_an_unknown_thread_is_skipped_and_said(known_article):
    summary = run("import_disqus", FIXTURE)
    assert not Comment.objects.filter(author_name="Fay").exists()
    assert "1 post of a thread the file does not describe" in summary


def test_disqus_html_is_sanitised(known_article):
    run("import_disqus", FIXTURE)
    bo = Comment.objects.get(author_name="Bo")
    assert "<script" not in bo.body_html and "Reply to Ava." in bo.body_html


def test_a_re_run_changes_nothing(known_article):
    run("import_disqus", FIXTURE)
    before = comment_rows()
    summary = run("import_disqus", FIXTURE)
    assert comment_rows() == before
    assert "6 already imported" in summary


def test_a_dry_run_writes_nothing():
    summary = run("import_disqus", FIXTURE, dry_run=True)
    assert "Comments imported: 6" in summary and "Dry run" in summary
    assert Comment.objects.count() == Article.objects.count() == 0


def test_a_truncated_export_imports_nothing(tmp_path):
    text = FIXTURE.read_text(encoding="utf-8")
    cut = tmp_path / "cut.xml"
    cut.write_text(text[: text.index('<post dsq:id="9000005">')], encoding="utf-8")
    with pytest.raises(CommandError, match="Nothing was imported"):
        run("import_disqus", cut)
    assert Comment.objects.count() == Article.objects.count() == 0


def test_a_wordpress_file_is_not_a_disqus_export():
    with pytest.raises(CommandError, match="not a Disqus export"):
        run("import_disqus", DATA / "wxr-statuses.xml")


def test_the_shared_disqus_export_imports_what_its_xml_holds():
    path = shared_file("isso", "disqus.xml")
    root = ElementTree.parse(path).getroot()
    linked = {t.get(DSQ) for t in root.iter(f"{NS}thread") if (t.findtext(f"{NS}link") or "")}
    expected = [
        p for p in root.iter(f"{NS}post")
        if (p.find(f"{NS}thread").get(DSQ) in linked and (p.findtext(f"{NS}message") or "").strip())
    ]  # fmt: skip
    run("import_disqus", path)
    assert Comment.objects.count() == len(expected)
    assert Article.objects.count() == len({p.find(f"{NS}thread").get(DSQ) for p in expected})


@pytest.mark.parametrize(
    ("link", "identifier", "key"),
    [
        ("https://site.example/?p=77", "", "77"),
        ("https://site.example/a/b/", "12 https://site.example/?p=12", "12"),
        ("https://site.example/2013/02/12/post/index.html", "", "2013-02-12-post-index-html"),
        ("https://site.example/", "", "site-example"),
    ],
)
def test_a_thread_is_keyed_by_post_id_or_link(link, identifier, key):
    assert article_key(link=link, identifier=identifier) == key


def test_a_very_long_link_gets_a_key_that_fits():
    key = article_key(link="https://site.example/" + "word/" * 100, identifier="")
    assert len(key) <= 200 and key.startswith("word-word")


def test_a_gzipped_export_is_read_as_disqus_sends_it(tmp_path, known_article):
    packed = tmp_path / "export.xml.gz"
    packed.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    assert "Comments imported: 6" in run("import_disqus", packed)


def test_a_cut_off_gzipped_export_imports_nothing(tmp_path):
    packed = tmp_path / "export.xml.gz"
    data = gzip.compress(FIXTURE.read_bytes())
    packed.write_bytes(data[: len(data) // 2])
    with pytest.raises(CommandError, match="Nothing was imported"):
        run("import_disqus", packed)
    assert Comment.objects.count() == Article.objects.count() == 0
