"""What the classifier learns from readers' reports."""

import pytest

from comments import spam
from comments.models import Comment
from comments.reporters import reporter_fingerprint, reporter_source
from comments.services import comment_approve, comment_mark_spam, flag_create
from comments.spam.versions import (
    REPORT_WEIGHT_MAX,
    moderator_decided_comments,
    reported_samples,
    spam_model_train,
)
from tests.comments.test_spam_classifier import OBVIOUS_HAM, fixture_samples
from tests.factories import ApprovedCommentFactory

Status = Comment.Status


def report(comment: Comment, *networks: str, reason: str = "spam") -> None:
    for ip in networks:
        flag_create(
            comment_id=comment.pk,
            reason=reason,
            detail="",
            reporter=reporter_fingerprint(ip=ip, user_agent="ua"),
            source=reporter_source(ip=ip),
        )


def weak(decided: list[Comment] | None = None) -> dict[int, float]:
    samples = reported_samples(decided=decided or [])
    return {int(s.body.rsplit(" ", 1)[-1]): s.weight for s in samples}


@pytest.fixture
def reported(db, settings) -> Comment:
    settings.REEX_FLAGS_TO_HOLD = 10
    return ApprovedCommentFactory.create(body="Buy cheap followers now 1")


@pytest.mark.django_db
def test_a_single_report_labels_nothing(reported):
    report(reported, "198.51.100.1")
    assert weak() == {}


@pytest.mark.django_db
def test_one_network_reporting_twice_labels_nothing(reported):
    report(reported, "198.51.100.1")
    flag_create(
        comment_id=reported.pk,
        reason="spam",
        detail="",
        reporter=reporter_fingerprint(ip="198.51.100.1", user_agent="another"),
        source=reporter_source(ip="198.51.100.1"),
    )
    assert weak() == {}


@pytest.mark.django_db
def test_spam_reports_from_two_networks_are_a_weak_spam_label(reported):
    report(reported, "198.51.100.1", "192.0.2.1")
    (sample,) = reported_samples(decided=[])
    assert (sample.label, sample.weight) == (True, 0.5)


@pytest.mark.django_db
def test_the_weight_grows_with_reporters_but_stays_below_a_moderators(reported):
    report(reported, *(f"198.51.{n}.1" for n in range(8)))
    assert weak() == {1: REPORT_WEIGHT_MAX}
    assert REPORT_WEIGHT_MAX < 1


@pytest.mark.django_db
def test_reports_of_other_kinds_teach_nothing_about_spam(reported):
    report(reported, "198.51.100.1", "192.0.2.1", reason="offensive")
    assert weak() == {}


@pytest.mark.django_db
def test_a_moderators_decision_replaces_the_reports(reported, moderator, no_delay):
    report(reported, "198.51.100.1", "192.0.2.1")
    comment_approve(comment=reported, actor=moderator)
    assert weak(moderator_decided_comments()) == {}


@pytest.mark.django_db
def test_a_reported_comment_a_moderator_marked_spam_is_a_full_label(reported, moderator, no_delay):
    report(reported, "198.51.100.1", "192.0.2.1")
    comment_mark_spam(comment=reported, actor=moderator)
    decided = moderator_decided_comments()
    assert decided == [reported]
    assert weak(decided) == {}


@pytest.mark.django_db
def test_training_counts_the_reports_apart(reported):
    report(reported, "198.51.100.1", "192.0.2.1")
    rows = [("fixture.csv", sample) for sample in fixture_samples()]
    version = spam_model_train(rows=rows, created_by="test")
    assert version.trained_on["reports"] == {"n": 1, "spam": 1, "ham": 0}
    assert version.trained_on["n"] == len(rows) + 1


def test_a_lighter_sample_moves_the_model_less():
    samples = fixture_samples()
    ham_like = spam.SpamSample(body=OBVIOUS_HAM.body, author_name="Maria Gonzalez", label=True)
    full = spam.train([*samples, ham_like], seed=0)
    light = spam.train([*samples, spam.SpamSample(**{**ham_like.__dict__, "weight": 0.25})])
    assert light.score(OBVIOUS_HAM) < full.score(OBVIOUS_HAM)
