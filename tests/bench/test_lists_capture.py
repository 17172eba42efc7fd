"""The moderators' lists as the scale benchmark captures them, on a small database."""

import json

import pytest
from django.contrib.auth.models import Group

from bench import lists
from comments.dashboard import DAYS
from comments.models import ModerationDay
from tests.factories import ApprovedCommentFactory

pytestmark = pytest.mark.django_db


def test_the_dashboard_is_captured_with_its_summary_filled(tmp_path, capsys):
    Group.objects.get_or_create(name="Moderators")
    ApprovedCommentFactory.create_batch(3)
    out = tmp_path / "lists-sql.json"

    lists.capture(out=str(out))

    captured = json.loads(out.read_text())["dashboard"]
    assert captured["status"] == 200
    assert ModerationDay.objects.count() == DAYS
    assert any("comments_moderationday" in sql for sql in captured["sql"])
    assert lists.unfiltered_counts(captured["sql"]) == []
    assert capsys.readouterr().out.startswith(lists.SESSION_MARKER + " ")
