"""Running the import and export commands from tests, and the files they read."""

import io
from pathlib import Path

from django.core.management import call_command

from comments.models import Comment
from tests.conftest import skip_or_fail

DATA = Path(__file__).parent / "data"
SHARED_IMPORT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "import"


def shared_file(*parts: str) -> Path:
    """Return a file of ``../shared/data/import``; skip (or fail in CI) when absent."""
    path = SHARED_IMPORT.joinpath(*parts)
    if not path.is_file():
        skip_or_fail(f"test data {path} is missing (see shared/data/README.md)")
    return path


def run(command: str, *args: object, **options: object) -> str:
    """Run a management command quietly; return what it wrote to stdout."""
    out = io.StringIO()
    call_command(command, *map(str, args), stdout=out, stderr=io.StringIO(), verbosity=0,
                 **options)  # fmt: skip
    return out.getvalue()


def comment_rows() -> list[tuple]:
    """Return every comment as what a reader or moderator would compare, thread included."""

    def parent(c: Comment) -> tuple | None:
        return (c.parent.author_name, c.parent.body) if c.parent else None

    return sorted(
        (
            c.article.key,
            c.author_name,
            c.author_email,
            c.author_url,
            c.ip_address,
            c.body,
            c.created_at.replace(microsecond=0),
            c.status,
            c.status_before_trash,
            c.kind,
            c.depth,
            parent(c),
        )
        for c in Comment.objects.select_related("article", "parent")
    )
