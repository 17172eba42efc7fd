import csv
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from comments import checks, spam, tasks
from comments.models import Article, Comment, ModerationEvent, SpamModelVersion
from comments.services import comment_approve, comment_mark_ham, comment_mark_spam, comment_moderate
from comments.spam import retraining, versions
from tests.comments.factories import ApprovedCommentFactory, CommentFactory, WordFactory
from tests.comments.test_spam_classifier import (
    HAM,
    OBVIOUS_HAM,
    OBVIOUS_SPAM,
    SPAM,
    fixture_samples,
)

pytestmark = pytest.mark.django_db
Status = Comment.Status


@pytest.fixture(scope="module")
def model() -> spam.SpamModel:
    return spam.train(fixture_samples(), seed=0)


def save(model: spam.SpamModel, **kwargs: Any) -> SpamModelVersion:
    version = versions.spam_model_save(
        model=model, trained_on={"n": 32}, evaluation={}, rows=[], created_by="test", **kwargs
    )
    assert version is not None
    return version


def moderated(comment: Comment, **kwargs: Any) -> Comment:
    comment_moderate(comment_id=comment.pk, **kwargs)
    comment.refresh_from_db()
    return comment


def spam_comment(**kwargs: Any) -> Comment:
    fields = {
        "body": OBVIOUS_SPAM.body,
        "author_name": OBVIOUS_SPAM.author_name,
        "author_url": OBVIOUS_SPAM.author_url,
        "author_email": "deals@promo.example.ru",
    }
    return CommentFactory.create(**{**fields, **kwargs})


class FixedScore:
    def __init__(self, score: float) -> None:
        self.value = score

    def score(self, sample: spam.SpamSample) -> float:
        return self.value

    def score_many(self, samples: list[spam.SpamSample]) -> list[float]:
        return [self.value for _ in samples]


# --- the pipeline -----------------------------------------------------------------------


def test_without_a_model_the_rules_decide_alone(no_delay):
    comment = moderated(spam_comment())
    assert (comment.status, comment.spam_score) == (Status.APPROVED, None)


def test_the_classifier_marks_obvious_spam_as_spam_with_its_score(no_delay, model):
    save(model)
    comment = moderated(spam_comment())
    assert comment.status == Status.SPAM
    assert comment.spam_score >= django_settings.REEX_SPAM_THRESHOLD
    assert comment.reasons[0].startswith("Spam score")
    assert comment.events.get().rule == "spam_classifier"


def test_the_classifier_scores_and_approves_a_real_reader(no_delay, model):
    save(model)
    comment = moderated(CommentFactory.create(body=OBVIOUS_HAM.body, author_name="Maria"))
    assert comment.status == Status.APPROVED
    assert comment.spam_score < django_settings.REEX_HOLD_THRESHOLD


@pytest.mark.parametrize(
    "score,status",
    [
        (0.99, Status.SPAM),
        (0.93, Status.SPAM),
        (0.92, Status.PENDING),
        (0.55, Status.PENDING),
        (0.54, Status.APPROVED),
        (0.0, Status.APPROVED),
    ],
)
def test_thresholds_turn_scores_into_verdicts(no_delay, mocker, settings, score, status):
    settings.REEX_SPAM_THRESHOLD, settings.REEX_HOLD_THRESHOLD = 0.93, 0.55
    mocker.patch.object(versions, "spam_model_current", return_value=FixedScore(score))
    comment = moderated(CommentFactory.create())
    assert (comment.status, comment.spam_score) == (status, score)


@pytest.mark.parametrize(
    "score,status",
    [(0.97, Status.SPAM), (0.969, Status.PENDING), (0.2, Status.PENDING), (0.199, Status.APPROVED)],
)
def test_the_default_thresholds_are_the_evaluated_ones(no_delay, mocker, score, status):
    mocker.patch.object(versions, "spam_model_current", return_value=FixedScore(score))
    comment = moderated(CommentFactory.create())
    assert comment.status == status


def test_a_held_score_notifies_the_moderators(no_delay, mocker):
    mocker.patch.object(versions, "spam_model_current", return_value=FixedScore(0.7))
    comment = moderated(CommentFactory.create())
    assert comment.notifications.get().kind == "moderators"


def test_a_previously_approved_author_is_judged_all_the_same(no_delay, model):
    save(model)
    earlier = ApprovedCommentFactory.create(author_email="deals@promo.example.ru")
    comment = moderated(spam_comment(author_email=earlier.author_email))
    assert comment.status == Status.SPAM


def test_block_words_decide_before_the_classifier_is_asked(no_delay, mocker):
    current = mocker.patch.object(versions, "spam_model_current")
    WordFactory.create(phrase="casino")
    comment = moderated(CommentFactory.create(body="casino bonus"))
    assert comment.status == Status.SPAM
    current.assert_not_called()


def test_the_classifier_runs_right_after_the_bans_and_block_words():
    assert checks.CHECKS[:4] == [
        checks.check_banned,
        checks.check_block_words,
        checks.check_spam_classifier,
        checks.check_akismet,
    ]
    assert checks.check_akismet not in checks.LOCAL_CHECKS


# --- stored versions and the worker's loader --------------------------------------------


def test_saving_a_version_makes_it_the_only_current_one(model):
    first, second = save(model), save(model)
    first.refresh_from_db()
    assert (first.version, second.version) == (1, 2)
    assert (first.is_current, second.is_current) == (False, True)


def test_the_stored_parameters_load_back_to_the_same_scores(model):
    save(model)
    loaded = versions.spam_model_current()
    assert loaded is not None
    assert loaded.score(OBVIOUS_SPAM) == pytest.approx(model.score(OBVIOUS_SPAM))


def test_a_running_worker_picks_up_a_new_version_without_restart(model, mocker, settings):
    settings.REEX_SPAM_MODEL_CHECK_SECONDS = 5
    clock = mocker.patch("comments.spam.versions.time.monotonic", return_value=1000.0)
    save(model)
    first = versions.spam_model_current()
    other = spam.train(
        [*fixture_samples(), spam.SpamSample(body=OBVIOUS_HAM.body, label=True)], c=0.5
    )
    save(other)
    clock.return_value = 1004.0
    assert versions.spam_model_current() is first
    clock.return_value = 1006.0
    newer = versions.spam_model_current()
    assert newer is not first and newer is not None
    assert newer.score(OBVIOUS_HAM) == pytest.approx(other.score(OBVIOUS_HAM))


def test_the_loader_asks_at_most_one_indexed_query_per_interval(
    model, mocker, settings, django_assert_num_queries
):
    settings.REEX_SPAM_MODEL_CHECK_SECONDS = 5
    clock = mocker.patch("comments.spam.versions.time.monotonic", return_value=1000.0)
    save(model)
    versions.spam_model_current()
    with django_assert_num_queries(0):
        versions.spam_model_current()
    clock.return_value = 1010.0
    with django_assert_num_queries(1):
        assert versions.spam_model_current() is not None


def test_a_version_switched_off_leaves_the_rules_alone(model, mocker, settings):
    settings.REEX_SPAM_MODEL_CHECK_SECONDS = 0
    save(model)
    assert versions.spam_model_current() is not None
    SpamModelVersion.objects.update(is_current=False)
    assert versions.spam_model_current() is None


def test_unreadable_parameters_are_refused_and_the_rules_decide(no_delay, model, caplog):
    version = save(model)
    SpamModelVersion.objects.filter(pk=version.pk).update(parameters=b"\x80\x04pickle")
    comment = moderated(spam_comment())
    assert (comment.status, comment.spam_score) == (Status.APPROVED, None)
    assert "cannot be loaded" in caplog.text


def test_a_version_built_for_older_features_leaves_the_rules_alone(
    no_delay, model, monkeypatch, caplog
):
    monkeypatch.setattr("comments.spam.model.FEATURE_SPEC", "reex-spam-features/0")
    save(model)
    monkeypatch.undo()
    comment = moderated(spam_comment())
    assert (comment.status, comment.spam_score) == (Status.APPROVED, None)
    assert "reex-spam-features/0" in caplog.text


# --- training data ----------------------------------------------------------------------


def test_moderators_decisions_are_the_labels(no_delay, moderator):
    spammy, fine, approved, untouched = CommentFactory.create_batch(4)
    comment_mark_spam(comment=spammy, actor=moderator)
    comment_mark_ham(comment=fine, actor=moderator)
    comment_approve(comment=approved, actor=moderator)
    moderated(untouched)
    decided = versions.moderator_decided_comments()
    samples = versions.decided_samples(decided)
    labels = {c.pk: s.label for c, s in zip(decided, samples, strict=True)}
    assert labels == {spammy.pk: True, fine.pk: False, approved.pk: False}


def test_file_rows_survive_packing():
    rows = [("a.csv", spam.SpamSample(body="héllo", author_name="Ann", label=True))]
    assert versions.rows_unpack(versions.rows_pack(rows)) == rows
    assert versions.rows_unpack(b"not gzip") == []


def write_csv(path: Path, samples: list[spam.SpamSample]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"])
        for n, sample in enumerate(samples):
            writer.writerow([n, sample.author_name, "", sample.body, int(bool(sample.label))])
    return path


@pytest.fixture
def fixture_csv(tmp_path) -> Path:
    return write_csv(tmp_path / "fixture.csv", fixture_samples())


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


# --- spam_train -------------------------------------------------------------------------


def test_spam_train_trains_on_files_and_decisions_and_makes_it_current(
    fixture_csv, no_delay, moderator
):
    comment_mark_spam(comment=CommentFactory.create(), actor=moderator)
    output = run("spam_train", str(fixture_csv))
    version = SpamModelVersion.objects.get(is_current=True)
    assert version.trained_on["files"] == {"fixture.csv": {"n": 32, "spam": 16, "ham": 16}}
    assert version.trained_on["moderators"] == {"n": 1, "spam": 1, "ham": 0}
    assert version.trained_on["n"] == 33
    assert set(spam.EVALUATION_COUNTS) <= set(version.evaluation["cross_validation"])
    assert len(versions.rows_unpack(bytes(version.training_rows))) == 32
    assert "fixture.csv: 32 comments (16 spam, 16 not spam)" in output
    assert "cross-validation" in output and "spam_marked_spam" in output
    assert "Version 1 is now current." in output


def test_spam_train_without_files_reuses_the_current_versions_rows(fixture_csv):
    run("spam_train", str(fixture_csv))
    run("spam_train")
    version = SpamModelVersion.objects.get(is_current=True)
    assert (version.version, version.trained_on["n"]) == (2, 32)


def test_spam_train_refuses_a_file_without_a_label_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,stars\nhello,5\n")
    with pytest.raises(CommandError, match="no column named any of CLASS, label"):
        run("spam_train", str(path))
    assert not SpamModelVersion.objects.exists()


def test_spam_train_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run("spam_train", str(tmp_path / "nope.csv"))


def test_spam_train_refuses_one_class_only(tmp_path):
    path = write_csv(tmp_path / "ham.csv", [s for s in fixture_samples() if not s.label])
    with pytest.raises(CommandError, match="both spam and ham"):
        run("spam_train", str(path))


# --- spam_eval --------------------------------------------------------------------------


def test_spam_eval_prints_the_counts_as_json_and_saves_nothing(fixture_csv, model):
    save(model)
    result = json.loads(run("spam_eval", str(fixture_csv), "--json"))
    assert set(result) == {*spam.EVALUATION_COUNTS, "precision", "recall", "f1", "n"}
    assert result["n"] == 32
    assert result["spam_marked_spam"] + result["spam_held"] + result["spam_approved"] == 16
    assert result["ham_marked_spam"] == 0
    assert not Comment.objects.exists() and not Article.objects.exists()


def test_spam_eval_applies_the_rules_too(tmp_path):
    WordFactory.create(phrase="refinery")
    rows = [spam.SpamSample(body=HAM[1], label=False), spam.SpamSample(body=SPAM[0], label=True)]
    result = json.loads(run("spam_eval", str(write_csv(tmp_path / "r.csv", rows)), "--json"))
    # No model: the block word marks the ham spam; the spam has one link and passes.
    assert (result["ham_marked_spam"], result["spam_approved"]) == (1, 1)


def test_spam_eval_prints_rates_for_people(fixture_csv, model):
    save(model)
    output = run("spam_eval", str(fixture_csv))
    assert "ham_marked_spam" in output and "%" in output and "precision" in output


# --- retraining -------------------------------------------------------------------------


def decide(moderator, n_spam: int, n_ham: int) -> None:
    for i in range(n_spam):
        comment = CommentFactory.create(body=f"{SPAM[i % len(SPAM)]} {i}", author_name="Promo")
        comment_mark_spam(comment=comment, actor=moderator)
    for i in range(n_ham):
        comment = CommentFactory.create(body=f"{HAM[i % len(HAM)]} ({i})")
        comment_mark_ham(comment=comment, actor=moderator)


def test_decisions_are_counted_since_the_current_version(no_delay, moderator, model):
    decide(moderator, 2, 1)
    assert retraining.decisions_since_current() == 3
    save(model)
    decide(moderator, 1, 0)
    assert retraining.decisions_since_current() == 1


def test_retraining_waits_for_enough_new_decisions(no_delay, moderator, model, settings):
    settings.REEX_SPAM_RETRAIN_AFTER = 10
    save(model)
    decide(moderator, 4, 5)
    outcome = retraining.spam_filter_retrain()
    assert not outcome.switched
    assert SpamModelVersion.objects.count() == 1


def test_retraining_switches_to_a_model_that_is_not_worse(no_delay, moderator, model, settings):
    settings.REEX_SPAM_RETRAIN_AFTER = 10
    save(model)
    decide(moderator, 8, 8)
    outcome = retraining.spam_filter_retrain()
    assert outcome.switched, outcome.reason
    current = SpamModelVersion.objects.get(is_current=True)
    assert (current.version, current.created_by, current.trained_on["moderators"]["n"]) == (
        2,
        "retrain",
        16,
    )
    assert current.evaluation["held_back"]["previous_version"] == 1


def test_a_worse_model_is_not_switched_in(no_delay, moderator, model, settings, mocker):
    settings.REEX_SPAM_RETRAIN_AFTER = 10
    save(model)
    decide(moderator, 8, 8)
    # A candidate that calls everything spam buries every real reader held back (and
    # every fifth id is held back: eight consecutive ham ids always include one).
    mocker.patch.object(retraining, "train", return_value=FixedScore(1.0))
    outcome = retraining.spam_filter_retrain()
    assert not outcome.switched
    assert "worse" in outcome.reason
    assert SpamModelVersion.objects.get(is_current=True).version == 1


def test_a_retraining_does_not_replace_a_version_switched_in_meanwhile(model):
    first = save(model)
    save(model)
    assert save_replacing(model, first.pk) is None
    assert SpamModelVersion.objects.get(is_current=True).version == 2


def save_replacing(model: spam.SpamModel, pk: int) -> SpamModelVersion | None:
    return versions.spam_model_save(
        model=model, trained_on={}, evaluation={}, rows=[], created_by="t", replacing=pk
    )


def test_the_first_retraining_needs_no_comparison(no_delay, moderator, settings):
    settings.REEX_SPAM_RETRAIN_AFTER = 5
    decide(moderator, 3, 3)
    assert retraining.spam_filter_retrain().switched
    assert SpamModelVersion.objects.get(is_current=True).trained_on["n"] == 6


def test_a_version_built_for_older_features_is_replaced_at_once(
    no_delay, model, settings, monkeypatch, caplog
):
    settings.REEX_SPAM_RETRAIN_AFTER = 1000
    monkeypatch.setattr("comments.spam.model.FEATURE_SPEC", "reex-spam-features/0")
    rows = [("fixture.csv", sample) for sample in fixture_samples()]
    versions.spam_model_save(
        model=model, trained_on={}, evaluation={}, rows=rows, created_by="test"
    )
    monkeypatch.undo()
    outcome = retraining.spam_filter_retrain()
    assert outcome.switched, outcome.reason
    current = SpamModelVersion.objects.get(is_current=True)
    assert (current.version, current.trained_on["n"]) == (2, 32)
    assert "held_back" not in current.evaluation
    assert spam.SpamModel.from_bytes(bytes(current.parameters)).meta["n"] == 32
    assert "replaced unread" in caplog.text


def test_the_retrain_task_runs_on_the_bulk_queue_from_beat():
    task: Any = tasks.retrain_spam_filter
    assert task.queue == "bulk"
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "comments.tasks.retrain_spam_filter" in scheduled


def test_the_retrain_task_reports_what_it_did(no_delay):
    assert "fewer than needed" in tasks.retrain_spam_filter()


# --- how moderators judged it -----------------------------------------------------------


def test_reversals_count_spam_approved_and_missed_spam(no_delay, moderator, mocker):
    score = mocker.patch.object(versions, "spam_model_current", return_value=FixedScore(0.99))
    caught, wrongly_caught = moderated(CommentFactory.create()), moderated(CommentFactory.create())
    score.return_value = FixedScore(0.1)
    passed, missed = moderated(CommentFactory.create()), moderated(CommentFactory.create())
    score.return_value = FixedScore(0.7)
    moderated(CommentFactory.create())
    comment_approve(comment=wrongly_caught, actor=moderator)
    comment_mark_spam(comment=missed, actor=moderator)
    result = retraining.spam_filter_reversals()
    assert (caught.status, passed.status) == (Status.SPAM, Status.APPROVED)
    assert {k: result[k] for k in ["marked_spam", "spam_approved", "held", "passed"]} == {
        "marked_spam": 2,
        "spam_approved": 1,
        "held": 1,
        "passed": 2,
    }
    assert result["passed_marked_spam"] == 1
    assert result["reversal_rate"] == pytest.approx(2 / 4)
    assert ModerationEvent.objects.filter(action="check").count() == 5
