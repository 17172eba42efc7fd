"""Poll the site's feeds now, as beat does every REEX_FEED_POLL_MINUTES."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from comments.services import FeedReport, feeds_poll


class Command(BaseCommand):
    help = "Poll the RSS/Atom feeds (REEX_FEED_URLS, or --url) and print what changed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", action="append", dest="urls", help="Poll this feed instead (repeatable)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        urls = options["urls"] or settings.REEX_FEED_URLS
        if not urls:
            raise CommandError("No feeds: set REEX_FEED_URLS or pass --url.")
        report = feeds_poll(urls=urls)
        if report.skipped:
            raise CommandError(
                "Another feed poll is running (or the cache is unreachable); try again later."
            )
        for feed in report.feeds:
            self._print(feed)
        if report.error_count:
            raise CommandError(f"{report.error_count} error(s); see above.")

    def _print(self, feed: FeedReport) -> None:
        if feed.error:
            self.stderr.write(f"{feed.url}: error: {feed.error} (retried at the next poll)")
            return
        if feed.not_modified:
            self.stdout.write(f"{feed.url}: not modified since the last poll")
            return
        counts = f"{len(feed.created)} created, {len(feed.updated)} updated"
        self.stdout.write(f"{feed.url}: {counts}, {feed.unchanged} unchanged")
        for key in feed.created:
            self.stdout.write(f"  created {key}")
        for key in feed.updated:
            self.stdout.write(f"  updated {key}")
        for problem in feed.problems:
            self.stderr.write(f"  error: {problem}")
