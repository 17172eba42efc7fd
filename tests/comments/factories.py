"""The comments factories, now in tests/factories.py (kept for existing imports)."""

from tests.factories import (
    ApprovedCommentFactory,
    ArticleFactory,
    CommentFactory,
    UserFactory,
    WordFactory,
    make_moderator,
)

__all__ = [
    "ApprovedCommentFactory",
    "ArticleFactory",
    "CommentFactory",
    "UserFactory",
    "WordFactory",
    "make_moderator",
]
