"""import_isso: Isso's generic JSON in, threads found by their URL on the site."""

import json
from datetime import UTC, datetime

import pytest
from django.core.management.base import CommandError

from comments.models import Article, Comment
from tests.comments.importing_helpers import comment_rows, run, shared_file
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db
SITE = "https://news.example.org"


def test_the_shared_isso_export_imports_every_comment():
    path = shared_file("isso", "generic.json")
    threads = json.loads(path.read_text(encoding="utf-8"))
    run("import_isso", path, site=SITE)
    assert Comment.objects.filter(status="approved").count() == sum(
        len(t["comments"]) for t in threads
    )
    assert sorted(Article.objects.values_list("url", flat=True)) == sorted(
        f"{SITE}{t['id']}" for t in threads
    )
    assert Article.objects.get(url=f"{SITE}/posts/0007/").title == "Nat & Miguel"


def test_a_thread_finds_the_article_at_its_url_and_keeps_dates(tmp_path):
    known = ArticleFactory(key="1234", url=f"{SITE}/2024/05/lynas/")
    path = tmp_path / "isso.json"
    rows = [{"id": 1, "author": "Ann", "email": "ann@example.org", "website": "",
             "remote_addr": "198.51.100.1", "created": "2024-05-02 12:00:00", "text": "Top"},
            {"id": 2, "author": "Bo", "email": "", "website": "", "parent": 1,
             "remote_addr": "", "created": "2024-05-02 13:00:00", "text": "Reply"}]  # fmt: skip
    path.write_text(json.dumps([{"id": "/2024/05/lynas/", "title": "Lynas", "comments": rows}]))
    run("import_isso", path, site=SITE, timezone="Europe/Berlin")
    ann, bo = Comment.objects.get(author_name="Ann"), Comment.objects.get(author_name="Bo")
    assert ann.article == known and bo.parent == ann
    assert ann.created_at == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)


def test_a_re_run_adds_nothing():
    path = shared_file("isso", "generic.json")
    run("import_isso", path, site=SITE)
    before = comment_rows()
    assert "already imported" in run("import_isso", path, site=SITE)
    assert comment_rows() == before


def test_a_truncated_file_imports_nothing(tmp_path):
    text = shared_file("isso", "generic.json").read_text(encoding="utf-8")
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2])
    with pytest.raises(CommandError, match="not valid JSON"):
        run("import_isso", cut, site=SITE)
    assert Comment.objects.count() == Article.objects.count() == 0
