"""Write every comment (all statuses, threads, kinds, emails and IP addresses) to a file."""

from argparse import ArgumentParser
from contextlib import nullcontext
from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError

from comments.exporting import export_json, export_wxr
from comments.models import Article

WRITERS = {"wxr": export_wxr, "json": export_json}


class Command(BaseCommand):
    help = (
        "Export comments as WXR (for WordPress, or import_wxr) or reex's JSON (import_json). "
        "The file holds readers' email and IP addresses: keep it as safe as the database."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--format", choices=sorted(WRITERS), default="wxr")
        parser.add_argument("--article", metavar="KEY", help="only this article's comments")
        parser.add_argument("--output", type=Path, metavar="FILE", help="default: stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        key = options["article"]
        if key and not Article.objects.filter(key=key).exists():
            raise CommandError(f"No article with key {key!r}.")
        path: Path | None = options["output"]
        try:
            target = path.open("w", encoding="utf-8") if path else nullcontext(self.stdout)
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error}") from error
        with target as out:
            written = WRITERS[options["format"]](cast(TextIO, out), article_key=key)
        if path:
            self.stderr.write(f"{written} comments written to {path}")
