"""Train the spam classifier from CSV files and the moderators' decisions; make it current."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from comments.management.commands.spam_eval import labelled_rows, progress, report_lines
from comments.spam.versions import current_rows, spam_model_train


class Command(BaseCommand):
    help = (
        "Train the spam classifier on CSV files (text in CONTENT, text or body; label in "
        "CLASS or label) plus every comment a moderator decided, and make it current. "
        "Without files, reuse the file rows the current version was trained on."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="*", metavar="FILE", help="labelled CSV files")

    def handle(self, *args: Any, files: list[str], **options: Any) -> None:
        rows = labelled_rows(files) if files else current_rows()
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


def _counts(counts: dict[str, int]) -> str:
    return f"{counts['n']} comments ({counts['spam']} spam, {counts['ham']} not spam)"
