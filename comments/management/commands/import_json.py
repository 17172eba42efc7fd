"""Import reex's own JSON export (export_comments --format json)."""

from pathlib import Path
from typing import Any

from comments.importing.command import ImportCommand
from comments.importing.reexjson import ReexJsonFile


class Command(ImportCommand):
    help = (
        "Import files written by export_comments --format json (another reex, or a "
        "backup): articles by key, comments with their status, thread, kind and dates."
    )
    update_articles = True

    def export_file(self, path: Path, options: dict[str, Any]) -> ReexJsonFile:
        return ReexJsonFile(path)
