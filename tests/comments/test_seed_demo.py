import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import RequestFactory

from comments.models import Article, Comment

pytestmark = pytest.mark.django_db


def seed(capsys) -> str:
    call_command("seed_demo")
    return capsys.readouterr().out


def test_it_creates_the_open_welcome_article_with_approved_comments_and_a_reply(capsys):
    seed(capsys)
    article = Article.objects.get(key="welcome")
    assert (article.title, article.comments_open) == ("Welcome to reex", True)
    comments = Comment.objects.filter(article=article)
    assert comments.count() == 3
    assert set(comments.values_list("status", flat=True)) == {"approved"}
    assert comments.filter(parent__isnull=False).count() == 1
    assert all(c.body_html.startswith("<p>") for c in comments)


def test_it_prints_a_working_moderator_password_once(capsys):
    out = seed(capsys)
    line = next(line for line in out.splitlines() if line.startswith("Moderator login:"))
    password = line.split(" / ", 1)[1]
    # A login request, as the admin makes it (django-axes checks every attempt's request).
    login = RequestFactory().post("/admin/login/")
    user = authenticate(login, username="moderator", password=password)
    assert user is not None and user.is_staff
    assert user.has_perm("comments.moderate_comment")
    assert "Moderator login" not in seed(capsys)


def test_it_is_idempotent(capsys):
    seed(capsys)
    seed(capsys)
    assert Article.objects.count() == 1
    assert Comment.objects.count() == 3
    assert User.objects.filter(username="moderator").count() == 1
