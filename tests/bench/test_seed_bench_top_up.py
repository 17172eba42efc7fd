"""seed_bench as the scale benchmark tops a kept database up: comments without new articles."""

import io

import pytest
from django.core.management import CommandError, call_command

from comments.models import Article, Comment

pytestmark = pytest.mark.django_db


def seed(**options: object) -> None:
    call_command("seed_bench", no_progress=True, stdout=io.StringIO(), **options)


def test_zero_articles_spreads_the_comments_over_the_articles_seeded_before():
    seed(comments=4, articles=2)
    seed(comments=6, articles=0)
    assert Article.objects.filter(key__startswith="seed-").count() == 2
    per_article = sorted(a.comments.count() for a in Article.objects.all())
    assert per_article == [5, 5]
    assert Comment.objects.count() == 10


def test_zero_articles_with_none_seeded_before_is_refused():
    with pytest.raises(CommandError, match="give --articles"):
        seed(comments=3, articles=0)
    assert not Comment.objects.exists()
