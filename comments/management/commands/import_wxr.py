"""Import the comments of WordPress exports (WXR 1.0 to 1.2)."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.management.base import CommandError

from comments.importing.command import ImportCommand
from comments.importing.wxr import WxrFile


class Command(ImportCommand):
    help = (
        "Import WordPress export files (Tools > Export > All content): each post becomes "
        "an article keyed by its post ID, each comment keeps its status, thread and type. "
        "Re-running adds nothing twice; nothing is moderated or emailed."
    )
    update_articles = True

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--timezone",
            default=settings.TIME_ZONE,
            help="the WordPress site's time zone, for dates the file gives only in local "
            "time (default: TIME_ZONE)",
        )

    def export_file(self, path: Path, options: dict[str, Any]) -> WxrFile:
        try:
            tz = ZoneInfo(options["timezone"])
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise CommandError(f"Unknown time zone {options['timezone']!r}.") from error
        return WxrFile(path, tz=tz)
