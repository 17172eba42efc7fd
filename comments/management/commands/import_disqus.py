"""Import the comments of Disqus XML exports."""

from pathlib import Path
from typing import Any

from comments.importing.command import ImportCommand
from comments.importing.disqus import DisqusFile


class Command(ImportCommand):
    help = (
        "Import Disqus XML exports: each thread with posts becomes an article (an existing "
        "one with the same URL, or a new one keyed by its WordPress post ID or its link), "
        "each post a comment (isSpam: spam, isDeleted: trash). Re-running adds nothing twice."
    )

    def export_file(self, path: Path, options: dict[str, Any]) -> DisqusFile:
        return DisqusFile(path)
