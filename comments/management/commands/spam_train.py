"""Train the spam classifier from CSV files and the moderators' decisions; make it current."""

from argparse import ArgumentParser
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from comments import spam
from comments.management.commands.spam_eval import report_lines
from comments.spam.versions import current_rows, spam_model_train


def progress(items: Iterable[Any], label: str) -> Iterable[Any]:
    """Show a bar on a terminal once a step takes more than a moment."""
    return tqdm(items, desc=label, delay=0.5, leave=False, disable=None)


class Command(BaseCommand):
    help = (
        "Train the spam classifier on CSV files (text in CONTENT, text or body; label in "
        "CLASS or label) plus every comment a moderator decided, and make it current. "
        "Without files, reuse the file rows the current version was trained on."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="*", metavar="FILE", help="labelled CSV files")

    def handle(self, *args: Any, files: list[str], **options: Any) -> None:
        rows = self._rows(files) if files else current_rows()
        try:
            version = spam_model_train(rows=rows, created_by="spam_train", progress=progress)
        except ValueError as error:
            raise CommandError(f"Cannot train: {error}.") from error
        trained_on = version.trained_on
        self.stdout.write(f"Trained spam filter version {version.version} on:")
        for name, counts in trained_on["files"].items():
            self.stdout.write(f"  {name}: {_counts(counts)}")
        self.stdout.write(f"  moderators' decisions: {_counts(trained_on['moderators'])}")
        self.stdout.write(f"  total: {_counts(trained_on)}")
        evaluation = version.evaluation.get("cross_validation") or {}
        if evaluation:
            folds = evaluation["folds"]
            self.stdout.write(f"Evaluation ({folds}-fold cross-validation, classifier alone):")
            for line in report_lines(evaluation):
                self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS(f"Version {version.version} is now current."))

    def _rows(self, files: list[str]) -> list[tuple[str, spam.SpamSample]]:
        rows = []
        for name in progress(files, "reading"):
            path = Path(name)
            try:
                rows += [(path.name, sample) for sample in spam.load_csv(path)]
            except (OSError, UnicodeDecodeError, ValueError) as error:
                raise CommandError(f"Cannot read {name}: {error}") from error
        return rows


def _counts(counts: dict[str, int]) -> str:
    return f"{counts['n']} comments ({counts['spam']} spam, {counts['ham']} not spam)"
