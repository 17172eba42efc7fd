import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from comments.models import Comment
from privacy.models import PersonalDataRequest
from subscriptions.models import Subscriber
from tests.privacy.conftest import Person

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("personal_data", *args, stdout=out)
    return out.getvalue()


def test_export_prints_everything_as_json(ann: Person):
    data = json.loads(run("export", ann.email))
    assert {c["id"] for c in data["comments"]} == {ann.approved.pk, ann.pending.pk}
    assert data["newsletter"]["subscriptions"][0]["list"] == "daily"
    assert PersonalDataRequest.objects.get().via == PersonalDataRequest.Via.COMMAND


def test_erase_with_yes_erases_and_says_what_it_did(ann: Person):
    out = run("erase", ann.email, "--yes")
    assert "comments: 2" in out
    assert "subscribers: 1" in out
    assert not Subscriber.objects.filter(pk=ann.subscriber.pk).exists()
    assert Comment.objects.get(pk=ann.approved.pk).author_name == "Anonymous"
    assert PersonalDataRequest.objects.get().action == PersonalDataRequest.Action.ERASE


def test_erase_asks_first_and_a_no_erases_nothing(ann: Person, monkeypatch):
    questions: list[str] = []

    def answer(question: str) -> str:
        questions.append(question)
        return "n"

    monkeypatch.setattr("builtins.input", answer)
    with pytest.raises(CommandError, match="Nothing erased"):
        run("erase", ann.email)
    assert ann.email in questions[0]
    assert Subscriber.objects.filter(pk=ann.subscriber.pk).exists()
    assert Comment.objects.get(pk=ann.approved.pk).author_email == ann.email.lower()
    assert not PersonalDataRequest.objects.exists()


def test_erase_goes_ahead_on_a_yes(ann: Person, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda q: "y")
    run("erase", ann.email)
    assert not Subscriber.objects.filter(pk=ann.subscriber.pk).exists()


def test_it_refuses_a_malformed_address():
    with pytest.raises(CommandError, match="Not an email address"):
        run("export", "nobody-at-example.org")
    assert not PersonalDataRequest.objects.exists()


def test_it_refuses_an_unknown_subcommand():
    with pytest.raises(CommandError):
        run("delete", "ann@example.org")


def test_erase_without_a_terminal_needs_yes(ann: Person, monkeypatch):
    def no_terminal(question: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", no_terminal)
    with pytest.raises(CommandError, match="--yes"):
        run("erase", ann.email)
    assert Subscriber.objects.filter(pk=ann.subscriber.pk).exists()
