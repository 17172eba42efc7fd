"""Run the moderation decision (rules and classifier, not Akismet) on labelled CSV rows."""

import json
from argparse import ArgumentParser
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from comments import spam
from comments.checks import LOCAL_CHECKS, Review, moderation_decide
from comments.models import Article, Comment
from comments.sanitize import sanitize
from comments.services import comment_body_normalise
from comments.spam.versions import spam_model_current

Status = Comment.Status
VERDICTS = {Status.SPAM: "spam", Status.PENDING: "held", Status.APPROVED: "approved"}


def progress(items: Iterable[Any], label: str) -> Iterable[Any]:
    """Show a bar on a terminal once a step takes more than a moment."""
    return tqdm(items, desc=label, delay=0.5, leave=False, disable=None)


def labelled_rows(files: list[str]) -> list[tuple[str, spam.SpamSample]]:
    """Return (file name, sample) for each row of the CSV files; CommandError if one fails."""
    rows = []
    for name in progress(files, "reading"):
        path = Path(name)
        try:
            rows += [(path.name, sample) for sample in spam.load_csv(path)]
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise CommandError(f"Cannot read {name}: {error}") from error
    return rows


def pipeline_verdict(sample: spam.SpamSample, *, article: Article) -> str:
    """Decide a row as the moderation task decides a new comment, without saving anything."""
    body = comment_body_normalise(sample.body)
    comment = Comment(
        article=article,
        author_name=sample.author_name[:100],
        author_email=sample.author_email,
        author_url=sample.author_url,
        body=body,
        body_html=sanitize(body),
        created_at=timezone.now(),
    )
    decision = moderation_decide(Review(comment=comment), checks=LOCAL_CHECKS)
    return VERDICTS[decision.status]


def report_lines(result: dict[str, Any]) -> list[str]:
    """Return the counts and rates of an evaluation as lines for people."""
    n_spam = result["spam_marked_spam"] + result["spam_held"] + result["spam_approved"]
    n_ham = result["n"] - n_spam
    lines = []
    for truth, total in (("spam", n_spam), ("ham", n_ham)):
        for outcome in ("marked_spam", "held", "approved"):
            count = result[f"{truth}_{outcome}"]
            rate = f"{count / total:6.1%}" if total else "     -"
            lines.append(f"{truth}_{outcome:<12} {count:6} {rate}")
    lines.append(
        f"precision {result['precision']:.3f}  recall {result['recall']:.3f}  "
        f"F1 {result['f1']:.3f}  n {result['n']}"
    )
    return lines


class Command(BaseCommand):
    help = (
        "Decide each labelled row as a new comment on an open article, with the same "
        "checks as the moderation task (rules and the current classifier, not Akismet), "
        "and print counts and rates. Nothing is saved."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="labelled CSV files")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object"
        )

    def handle(self, *args: Any, files: list[str], as_json: bool, **options: Any) -> None:
        samples = [sample for _, sample in labelled_rows(files)]
        if spam_model_current() is None:
            self.stderr.write("No spam filter version yet: the rules decide alone.")
        article = Article(key="spam-eval", title="Evaluation", comments_open=True)
        verdicts = [pipeline_verdict(s, article=article) for s in progress(samples, "deciding")]
        result = spam.evaluate_verdicts(verdicts, [bool(s.label) for s in samples])
        if as_json:
            self.stdout.write(json.dumps(result, sort_keys=True))
            return
        for line in report_lines(result):
            self.stdout.write(line)
