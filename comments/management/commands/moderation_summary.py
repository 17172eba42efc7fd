"""Backfill or refresh the moderators' dashboard summary (one row per day)."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from comments import services


class Command(BaseCommand):
    help = (
        "Recompute the dashboard's daily summary for the last N days (default 30) from the "
        "comments and audit events. Beat keeps recent days fresh; run this once after "
        "installing, or after importing old comments."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, help="Days back from today.")

    def handle(self, *args: Any, **options: Any) -> None:
        days: int = options["days"]
        if days < 1:
            raise CommandError("--days must be at least 1.")
        today = timezone.localdate()
        done = services.moderation_days_refresh(
            days=[today - timedelta(days=n) for n in range(days)]
        )
        self.stdout.write(f"Refreshed {len(done)} days, {done[0]} to {done[-1]}.")
