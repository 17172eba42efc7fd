"""Akismet against a loopback HTTP server that speaks its protocol (never the real service)."""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from comments import tasks
from comments.models import AkismetFeedback, Comment
from comments.services import (
    akismet_feedback_requeue,
    comment_approve,
    comment_mark_ham,
    comment_mark_spam,
    comment_moderate,
    comment_trash,
)
from comments.spam import akismet
from tests.comments.factories import ApprovedCommentFactory, ArticleFactory, CommentFactory

pytestmark = pytest.mark.django_db
Status = Comment.Status
THANKS = "Thanks for making the web a better place."


@dataclass
class FakeAkismet:
    """What the server answers to comment-check, and every request it received."""

    verdict: str = "false"  # "true", "false", "discard", "error" (HTTP 500) or "slow"
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


def handler_for(fake: FakeAkismet) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            fake.requests.append((self.path, form))
            if fake.verdict == "slow":
                time.sleep(1.0)
            if fake.verdict == "error":
                self._answer("Internal error", status=HTTPStatus.INTERNAL_SERVER_ERROR)
            elif self.path.endswith("/comment-check"):
                tip = {"X-akismet-pro-tip": "discard"} if fake.verdict == "discard" else {}
                self._answer("false" if fake.verdict == "false" else "true", headers=tip)
            else:
                self._answer(THANKS)

        def _answer(
            self, text: str, status: int = HTTPStatus.OK, headers: dict[str, str] | None = None
        ) -> None:
            body = text.encode()
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client timed out and hung up

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake_akismet(settings) -> Iterator[FakeAkismet]:
    fake = FakeAkismet()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.AKISMET_API_KEY = "test-key"
    settings.AKISMET_SITE_URL = "https://news.example.org/"
    settings.AKISMET_API_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.AKISMET_TIMEOUT_SECONDS = 0.3
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()


def moderated(comment: Comment, **kwargs: Any) -> Comment:
    comment_moderate(comment_id=comment.pk, **kwargs)
    comment.refresh_from_db()
    return comment


def reader_comment(**kwargs: Any) -> Comment:
    fields = {
        "author_name": "Ann Lee",
        "author_email": "ann@example.org",
        "author_url": "https://ann.example.org/",
        "body": "Neodymium prices fell last quarter.",
        "ip_address": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (X11)",
        "referrer": "https://news.example.org/welcome/",
    }
    return CommentFactory.create(**{**fields, **kwargs})


# --- the check --------------------------------------------------------------------------


def test_the_check_sends_what_akismet_documents(fake_akismet, no_delay):
    article = ArticleFactory.create(key="welcome", url="https://news.example.org/welcome/")
    parent = ApprovedCommentFactory.create(article=article)
    comment = moderated(reader_comment(article=article, parent=parent, depth=1))
    assert comment.status == Status.APPROVED
    [(path, form)] = fake_akismet.requests
    assert path == "/1.1/comment-check"
    assert form == {
        "api_key": "test-key",
        "blog": "https://news.example.org/",
        "user_ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (X11)",
        "referrer": "https://news.example.org/welcome/",
        "permalink": "https://news.example.org/welcome/",
        "comment_type": "reply",
        "comment_author": "Ann Lee",
        "comment_author_email": "ann@example.org",
        "comment_author_url": "https://ann.example.org/",
        "comment_content": "Neodymium prices fell last quarter.",
        "comment_date_gmt": comment.created_at.isoformat(),
        "blog_lang": "en_us",
        "blog_charset": "UTF-8",
    }


@pytest.mark.parametrize("verdict", ["true", "discard"])
def test_a_spam_verdict_marks_spam(fake_akismet, no_delay, verdict):
    fake_akismet.verdict = verdict
    comment = moderated(reader_comment())
    assert (comment.status, comment.reasons) == (Status.SPAM, ["Akismet says spam."])
    assert comment.events.get().rule == "akismet"


def test_a_ham_verdict_leaves_the_decision_to_the_rules(fake_akismet, no_delay, settings):
    settings.REEX_MODERATION_MODE = "all"
    comment = moderated(reader_comment())
    assert comment.status == Status.PENDING
    assert comment.events.get().rule == "moderation_mode"


def test_without_a_key_akismet_is_not_asked(fake_akismet, no_delay, settings):
    settings.AKISMET_API_KEY = ""
    assert moderated(reader_comment()).status == Status.APPROVED
    assert fake_akismet.requests == []


@pytest.mark.parametrize("failure", ["error", "slow"])
def test_an_outage_raises_and_rolls_the_claim_back_for_a_retry(fake_akismet, no_delay, failure):
    fake_akismet.verdict = failure
    comment = reader_comment()
    with pytest.raises(akismet.AkismetUnavailable):
        comment_moderate(comment_id=comment.pk)
    comment.refresh_from_db()
    assert (comment.status, comment.checked_at) == (Status.PENDING, None)


@pytest.mark.parametrize("failure", ["error", "slow"])
def test_the_last_try_holds_the_comment_for_a_human(fake_akismet, no_delay, failure):
    fake_akismet.verdict = failure
    comment = moderated(reader_comment(), last_attempt=True)
    assert comment.status == Status.PENDING
    assert comment.checked_at is not None
    assert comment.events.get().rule == "akismet"
    assert "held for a human" in comment.reasons[0]
    assert comment.notifications.get().kind == "moderators"


def test_the_task_retries_an_outage_and_finally_holds(fake_akismet, no_delay, mocker):
    fake_akismet.verdict = "error"
    task: Any = tasks.moderate_comment
    mocker.patch.object(task, "max_retries", 2)
    comment = reader_comment()
    task.apply(args=[comment.pk])
    comment.refresh_from_db()
    assert comment.status == Status.PENDING and comment.checked_at is not None
    assert fake_akismet.paths() == ["/1.1/comment-check"] * 3


def test_the_task_retries_akismet_outages_with_backoff():
    task: Any = tasks.moderate_comment
    assert task.autoretry_for == (akismet.AkismetUnavailable,)
    assert task.retry_backoff and task.retry_jitter and task.max_retries >= 3


# --- feedback from moderators -----------------------------------------------------------


@pytest.fixture
def feedback_runs_now(mocker):
    """Run the feedback task in-process when it is queued (after commit)."""
    return mocker.patch.object(
        tasks.akismet_feedback, "delay", side_effect=lambda *a: tasks.akismet_feedback(*a)
    )


def decided(action, comment: Comment, moderator, capture) -> None:
    with capture(execute=True):
        action(comment=comment, actor=moderator)


def test_marking_spam_submits_spam_after_commit(
    fake_akismet, no_delay, moderator, feedback_runs_now, django_capture_on_commit_callbacks
):
    comment = reader_comment(status=Status.APPROVED)
    decided(comment_mark_spam, comment, moderator, django_capture_on_commit_callbacks)
    [(path, form)] = fake_akismet.requests
    assert path == "/1.1/submit-spam"
    assert form["comment_content"] == comment.body and form["user_ip"] == "203.0.113.7"


def test_not_spam_submits_ham(
    fake_akismet, no_delay, moderator, feedback_runs_now, django_capture_on_commit_callbacks
):
    comment = reader_comment(status=Status.SPAM)
    decided(comment_mark_ham, comment, moderator, django_capture_on_commit_callbacks)
    assert fake_akismet.paths() == ["/1.1/submit-ham"]


def test_approving_a_comment_from_spam_submits_ham(
    fake_akismet, no_delay, moderator, feedback_runs_now, django_capture_on_commit_callbacks
):
    comment = reader_comment(status=Status.SPAM)
    decided(comment_approve, comment, moderator, django_capture_on_commit_callbacks)
    assert fake_akismet.paths() == ["/1.1/submit-ham"]


@pytest.mark.parametrize("action", [comment_approve, comment_trash])
def test_approving_or_trashing_a_held_comment_teaches_akismet_nothing(
    fake_akismet, no_delay, moderator, feedback_runs_now, django_capture_on_commit_callbacks, action
):
    decided(action, reader_comment(), moderator, django_capture_on_commit_callbacks)
    assert fake_akismet.requests == []


def test_feedback_is_queued_on_the_moderation_queue_only_after_commit(
    fake_akismet, no_delay, moderator, mocker, django_capture_on_commit_callbacks
):
    delay = mocker.patch.object(tasks.akismet_feedback, "delay")
    comment = reader_comment()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        comment_mark_spam(comment=comment, actor=moderator)
    delay.assert_not_called()
    for callback in callbacks:
        callback()
    delay.assert_called_once_with(comment.pk, "spam")
    task: Any = tasks.akismet_feedback
    assert task.queue == "moderation"
    assert task.autoretry_for == (akismet.AkismetUnavailable,)


def test_a_feedback_outage_raises_for_the_tasks_retry(fake_akismet, no_delay):
    fake_akismet.verdict = "error"
    comment = reader_comment(status=Status.SPAM)
    with pytest.raises(akismet.AkismetUnavailable):
        tasks.akismet_feedback(comment.pk, "spam")


def test_without_a_key_no_feedback_is_queued(
    no_delay, moderator, mocker, django_capture_on_commit_callbacks
):
    delay = mocker.patch.object(tasks.akismet_feedback, "delay")
    decided(comment_mark_spam, reader_comment(), moderator, django_capture_on_commit_callbacks)
    delay.assert_not_called()


def test_a_permalink_falls_back_to_the_reader_page(settings):
    article = ArticleFactory.build(key="no-url", url="")
    comment = CommentFactory.build(article=article, ip_address=None)
    arguments = akismet.akismet_arguments(comment)
    assert arguments["permalink"] == f"{settings.REEX_BASE_URL}/articles/no-url/"
    assert arguments["user_ip"] == ""
    assert arguments["comment_type"] == "comment"


# --- feedback owed while the broker is down ---------------------------------------------


def _decided_with_the_broker_down(comment, moderator, mocker, capture) -> Any:
    delay = mocker.patch.object(
        tasks.akismet_feedback, "delay", side_effect=OperationalError("refused")
    )
    decided(comment_mark_spam, comment, moderator, capture)
    return delay


def test_feedback_the_broker_refused_is_kept_owed(
    fake_akismet, no_delay, moderator, mocker, django_capture_on_commit_callbacks
):
    comment = reader_comment(status=Status.APPROVED)
    delay = _decided_with_the_broker_down(
        comment, moderator, mocker, django_capture_on_commit_callbacks
    )
    delay.assert_called_once_with(comment.pk, "spam")
    owed = AkismetFeedback.objects.get()
    assert (owed.comment_id, owed.kind, owed.sent_at) == (comment.pk, "spam", None)
    assert fake_akismet.requests == []


def test_the_sweep_sends_feedback_the_broker_refused(
    fake_akismet, no_delay, moderator, mocker, django_capture_on_commit_callbacks
):
    comment = reader_comment(status=Status.APPROVED)
    _decided_with_the_broker_down(comment, moderator, mocker, django_capture_on_commit_callbacks)
    mocker.patch.object(
        tasks.akismet_feedback, "delay", side_effect=lambda *a: tasks.akismet_feedback(*a)
    )
    later = timezone.now() + timedelta(minutes=5)

    assert akismet_feedback_requeue(now=later) == 1

    assert fake_akismet.paths() == ["/1.1/submit-spam"]
    assert AkismetFeedback.objects.get().sent_at is not None
    assert akismet_feedback_requeue(now=later) == 0


def test_the_sweep_leaves_fresh_feedback_to_its_own_task(
    fake_akismet, no_delay, moderator, mocker, django_capture_on_commit_callbacks
):
    comment = reader_comment(status=Status.APPROVED)
    _decided_with_the_broker_down(comment, moderator, mocker, django_capture_on_commit_callbacks)
    assert akismet_feedback_requeue() == 0


def test_the_sweep_retries_feedback_whose_retries_ran_out(fake_akismet, no_delay, mocker):
    comment = reader_comment(status=Status.SPAM)
    fake_akismet.verdict = "error"
    AkismetFeedback.objects.create(comment=comment, kind="spam")
    with pytest.raises(akismet.AkismetUnavailable):
        tasks.akismet_feedback(comment.pk, "spam")
    owed = AkismetFeedback.objects.get()
    assert owed.attempts == 1 and owed.sent_at is None
    delay = mocker.patch.object(tasks.akismet_feedback, "delay")

    assert akismet_feedback_requeue(now=timezone.now() + timedelta(hours=1)) == 0
    assert akismet_feedback_requeue(now=timezone.now() + timedelta(hours=7)) == 1
    delay.assert_called_once_with(comment.pk, "spam")


def test_the_sweep_drops_feedback_a_week_old(no_delay, mocker):
    comment = reader_comment(status=Status.SPAM)
    AkismetFeedback.objects.create(comment=comment, kind="spam")
    mocker.patch.object(tasks.akismet_feedback, "delay")
    assert akismet_feedback_requeue(now=timezone.now() + timedelta(days=8)) == 0
    assert not AkismetFeedback.objects.exists()


def test_beat_runs_the_feedback_sweep(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["comments-requeue-akismet-feedback"]
    assert entry["task"] == tasks.requeue_akismet_feedback.name
