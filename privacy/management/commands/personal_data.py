"""python manage.py personal_data export|erase EMAIL: a data subject's request, audited."""

import json
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from privacy import services
from privacy.models import PersonalDataRequest
from reex.addresses import email_clean


class Command(BaseCommand):
    help = (
        "export EMAIL prints, as JSON, everything held on the address; erase EMAIL "
        "anonymises its comments and removes its newsletter data (asks first unless --yes)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["export", "erase"])
        parser.add_argument("email")
        parser.add_argument("--yes", action="store_true", help="Erase without asking.")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip()  # the services clean it; the question shows it as typed
        try:
            email_clean(email)
        except ValidationError as error:
            raise CommandError(f"Not an email address: {options['email']!r}") from error
        if options["action"] == "export":
            self._export(email)
        else:
            self._erase(email, confirmed=options["yes"])

    def _export(self, email: str) -> None:
        data = services.personal_data_export(email=email, via=PersonalDataRequest.Via.COMMAND)
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))

    def _erase(self, email: str, *, confirmed: bool) -> None:
        if not confirmed:
            question = (
                f"Erase {email}? Comments stay, anonymised; subscriptions, emails and the "
                "consent log's personal details are deleted. This cannot be undone. [y/N] "
            )
            try:
                answer = input(question)
            except EOFError:
                answer = ""  # no terminal (cron, pipe): only --yes erases
            if answer.strip().lower() not in ("y", "yes"):
                raise CommandError("Nothing erased (answer y, or pass --yes).")
        counts = services.personal_data_erase(email=email, via=PersonalDataRequest.Via.COMMAND)
        self.stdout.write(self.style.SUCCESS(f"Erased {email}:"))
        for name, count in counts.items():
            self.stdout.write(f"  {name.replace('_', ' ')}: {count}")
