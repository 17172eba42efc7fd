"""What the import commands share: arguments, the progress bar, errors and the report."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from comments.importing.records import ImportFileError
from comments.importing.writer import ExportFile, ImportRun, summary_lines


class ImportCommand(BaseCommand):
    """Import each file given in its own transaction; subclasses say how to read one."""

    update_articles = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="read and check everything, report what would be imported, write nothing",
        )
        parser.add_argument(
            "--source",
            help="name the comments' origin (default: from the file, e.g. the WordPress "
            "site's address); a re-run must use the same name to add nothing twice",
        )

    def export_file(self, path: Path, options: dict[str, Any]) -> ExportFile:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        for path in options["files"]:
            self._import(path, options)

    def _import(self, path: Path, options: dict[str, Any]) -> None:
        run = ImportRun(
            self.export_file(path, options),
            update_articles=self.update_articles,
            dry_run=options["dry_run"],
        )
        try:
            scan = run.scan()
        except ImportFileError as error:
            raise CommandError(f"{error}. Nothing was imported from this file.") from error
        if options["source"]:
            run.summary.source = options["source"]
        quiet = options["verbosity"] == 0
        with tqdm(total=scan.comments, unit="comment", desc=path.name, disable=quiet) as bar:
            run.progress = bar.update
            summary = run.run()
        self.stdout.write(f"{path}:")
        for line in summary_lines(summary):
            self.stdout.write(f"  {line}")
