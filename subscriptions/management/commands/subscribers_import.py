"""Import confirmed subscribers from a CSV file (an address per row, column ``email``)."""

import csv
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from subscriptions import services
from subscriptions.consent import Consent
from subscriptions.models import MailingList


class Command(BaseCommand):
    help = (
        "Add addresses that already consented elsewhere as confirmed subscribers, without "
        "sending mail. Addresses that unsubscribed or bounced are left alone."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("csv_file", type=Path, help="CSV with a header row and an email column")
        parser.add_argument("--list", default="daily", help="list slug (default: daily)")
        parser.add_argument(
            "--consent",
            required=True,
            help='where and how they consented, kept in the consent log, e.g. "Mailchimp '
            'signup form, double opt-in, exported 2025-01-10"',
        )
        parser.add_argument("--consent-version", default="import", help="a label for it")

    def handle(self, *args: Any, **options: Any) -> None:
        mailing_list = MailingList.objects.filter(slug=options["list"]).first()
        if mailing_list is None:
            raise CommandError(f"No list {options['list']!r}.")
        consent = Consent(version=options["consent_version"], text=options["consent"])
        added = skipped = invalid = 0
        for line, email in _addresses(options["csv_file"]):
            try:
                done = services.subscription_import(
                    email=email, mailing_list=mailing_list, consent=consent
                )
            except ValidationError:
                invalid += 1
                self.stderr.write(f"line {line}: not an email address: {email!r}")
                continue
            added, skipped = added + done, skipped + (not done)
        self.stdout.write(f"{added} added, {skipped} already there or opted out, {invalid} invalid")


def _addresses(path: Path) -> list[tuple[int, str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "email" not in reader.fieldnames:
                raise CommandError("The CSV file needs a header row with an 'email' column.")
            return [(n, (row["email"] or "").strip()) for n, row in enumerate(reader, start=2)]
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error}") from error
