"""Compose a list's edition now and start sending it: what beat does at the send time."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from subscriptions import editions, selectors
from subscriptions.models import Edition, MailingList


class Command(BaseCommand):
    help = (
        "Compose the list's edition from the articles published since its last edition and "
        "start sending it to every confirmed subscriber. Prints the edition, its articles and "
        'its recipients, or "nothing new".'
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("list", help="the list's slug, e.g. daily")

    def handle(self, *args: Any, **options: Any) -> None:
        mailing_list = MailingList.objects.filter(slug=options["list"]).first()
        if mailing_list is None:
            raise CommandError(f"No list {options['list']!r}.")
        try:
            edition = editions.edition_send_now(newsletter_list=mailing_list)
        except editions.EditionUnderWay as error:
            raise CommandError(f"{error}: pause, cancel or let it finish first.") from error
        if edition is None:
            self.stdout.write(f"{mailing_list.name}: nothing new since the last edition.")
            return
        self._describe(edition)

    def _describe(self, edition: Edition) -> None:
        articles = selectors.edition_articles(edition=edition)
        self.stdout.write(
            f"{edition.mailing_list.name} No. {edition.number} ({edition.issue_date}): "
            f"{edition.state}"
        )
        self.stdout.write(f"Subject: {edition.subject}")
        self.stdout.write(f"Articles ({len(articles)}):")
        for article in articles:
            when = article.published_at.strftime("%Y-%m-%d %H:%M UTC")
            self.stdout.write(f"  {when}  {article.title}  {article.url}")
        recipients = max(edition.recipients, edition.deliveries.count())
        self.stdout.write(f"Recipients: {recipients}")
