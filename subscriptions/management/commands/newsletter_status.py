"""Print each list's schedule and its latest editions with their progress."""

from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from subscriptions import editions, selectors
from subscriptions.models import Edition, MailingList


def duration(seconds: float) -> str:
    """Return a short human duration: 45 s, 3 min 20 s, 2 h 5 min."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


class Command(BaseCommand):
    help = "Show each list's send time and its latest editions: state, counts, rate, time left."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--editions", type=int, default=5, help="editions per list (5)")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        for mailing_list in MailingList.objects.order_by("name"):
            nxt = editions.list_next_send_time(mailing_list=mailing_list, now=now)
            zone = editions.list_zone(mailing_list=mailing_list)
            self.stdout.write(
                f"{mailing_list.name} ({mailing_list.slug}): sends at "
                f"{mailing_list.send_time:%H:%M} {mailing_list.time_zone}, next "
                f"{nxt.astimezone(zone):%Y-%m-%d %H:%M %Z}"
            )
            recent = mailing_list.editions.order_by("-number")[: options["editions"]]
            if not recent:
                self.stdout.write("  no edition yet")
            for edition in recent:
                self.stdout.write("  " + self._line(edition, now=now))

    def _line(self, edition: Edition, *, now: datetime) -> str:
        progress = selectors.edition_progress(edition=edition, now=now)
        line = (
            f"No. {edition.number} {edition.issue_date} {edition.state}: "
            f"{progress.recipients} recipients, {progress.sent} sent, {progress.failed} failed, "
            f"{progress.remaining} remaining"
        )
        if progress.rate is not None:
            line += f", {progress.rate:.1f}/s"
        if progress.seconds_left is not None:
            line += f", {duration(progress.seconds_left)} left"
        if edition.reason:
            line += f" ({edition.reason})"
        return line
