"""Import Isso's generic JSON export."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.management.base import CommandError

from comments.importing.command import ImportCommand
from comments.importing.isso import IssoJsonFile


class Command(ImportCommand):
    help = (
        "Import Isso's generic JSON (a list of threads by path, with their comments): each "
        "thread becomes the article at that URL on --site (found by URL, or created), each "
        "comment a published comment. Re-running adds nothing twice."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--site", required=True, help="the site's address, e.g. https://news.example.org"
        )
        parser.add_argument(
            "--timezone",
            default=settings.TIME_ZONE,
            help="the time zone of the file's dates (default: TIME_ZONE)",
        )

    def export_file(self, path: Path, options: dict[str, Any]) -> IssoJsonFile:
        if not options["site"].startswith(("http://", "https://")):
            raise CommandError("--site must be an http:// or https:// address.")
        try:
            tz = ZoneInfo(options["timezone"])
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise CommandError(f"Unknown time zone {options['timezone']!r}.") from error
        return IssoJsonFile(path, site=options["site"], tz=tz)
