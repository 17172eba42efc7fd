"""Create the demo: an open article with a few approved comments, and a moderator."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from comments.models import Article
from comments.services import article_upsert, comment_import

DEMO_COMMENTS = [
    ("Ada", "ada@example.org", "Great overview of the rare earth supply chain, thanks!"),
    ("Grace", "grace@example.org", "Does anyone know when the next price report comes out?"),
]
DEMO_REPLY = ("Linus", "linus@example.org", "Usually on the first Monday of the month.")


class Command(BaseCommand):
    help = "Create the demo article `welcome`, its comments and a moderator (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        with transaction.atomic():
            article = self._article()
            self._comments(article)
            password = self._moderator()
        self.stdout.write(f"Demo article: {article.key}")
        if password:
            self.stdout.write(f"Moderator login: moderator / {password}")

    def _article(self) -> Article:
        existing = Article.objects.filter(key="welcome").first()
        if existing is not None:
            return existing
        return article_upsert(
            key="welcome",
            title="Welcome to reex",
            url="http://127.0.0.1:8000/articles/welcome/",
            published_at=timezone.now(),
            comments_open=True,
        )[0]

    def _comments(self, article: Article) -> None:
        if article.comments.exists():
            return
        top = [
            comment_import(article=article, author_name=name, author_email=email, body=body)
            for name, email, body in DEMO_COMMENTS
        ]
        name, email, body = DEMO_REPLY
        comment_import(
            article=article, author_name=name, author_email=email, body=body, parent=top[-1]
        )

    def _moderator(self) -> str | None:
        User = get_user_model()
        if User.objects.filter(username="moderator").exists():
            return None
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(
            username="moderator", email="moderator@example.org", password=password
        )
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.groups.add(Group.objects.get(name="Moderators"))
        return password
