"""Readers' reports: once per reader, hiding at the threshold, cleared by an approval."""

import pytest
from django.core.exceptions import ValidationError

from comments import public_cache, selectors
from comments.models import Comment, Flag, ModerationEvent
from comments.reporters import reporter_fingerprint, reporter_source
from comments.services import comment_approve, comment_mark_spam, flag_create
from tests.factories import ApprovedCommentFactory, CommentFactory

pytestmark = pytest.mark.django_db
Status = Comment.Status


def report(comment: Comment, n: int, *, reason: str = "spam", ip: str | None = None) -> Flag | None:
    address = ip or f"198.51.100.{n}"
    return flag_create(
        comment_id=comment.pk,
        reason=reason,
        detail="",
        reporter=reporter_fingerprint(ip=address, user_agent=f"agent {n}"),
        source=reporter_source(ip=address),
    )


def test_a_report_of_a_published_comment_is_recorded(no_delay):
    comment = ApprovedCommentFactory.create()
    flag = report(comment, 1, reason="abusive")
    assert flag is not None
    assert (flag.comment, flag.reason, flag.cleared_at) == (comment, "abusive", None)


def test_the_reporter_is_kept_as_a_hash_not_an_address(no_delay):
    flag = report(ApprovedCommentFactory.create(), 1)
    assert flag is not None
    assert "198.51.100" not in flag.reporter + flag.source
    assert len(flag.reporter) == 64


@pytest.mark.parametrize("status", [Status.PENDING, Status.SPAM, Status.TRASH])
def test_a_comment_not_published_cannot_be_reported(no_delay, status):
    comment = CommentFactory.create(status=status)
    assert report(comment, 1) is None
    assert not Flag.objects.exists()


def test_an_unknown_comment_is_answered_as_a_pending_one(no_delay):
    assert report(Comment(pk=987654), 1) is None


def test_a_readers_second_report_returns_the_first_and_adds_nothing(no_delay):
    comment = ApprovedCommentFactory.create()
    first = report(comment, 1, reason="spam")
    again = report(comment, 1, reason="offensive")
    assert again == first
    assert Flag.objects.count() == 1


def test_a_bad_reason_is_refused_with_a_field_error_whatever_the_comment(no_delay):
    for comment in (ApprovedCommentFactory.create(), CommentFactory.create()):
        with pytest.raises(ValidationError) as error:
            report(comment, 1, reason="boring")
        assert "reason" in error.value.message_dict
    assert not Flag.objects.exists()


def test_reports_from_enough_readers_hide_the_comment_with_an_audit_event(no_delay, settings):
    settings.REEX_FLAGS_TO_HOLD = 3
    comment = ApprovedCommentFactory.create()
    report(comment, 1)
    report(comment, 2)
    assert Comment.objects.get(pk=comment.pk).status == Status.APPROVED
    report(comment, 3)
    assert Comment.objects.get(pk=comment.pk).status == Status.PENDING
    event = ModerationEvent.objects.get(comment=comment)
    assert (event.action, event.rule, event.from_status, event.to_status) == (
        "reported",
        "reader_reports",
        "approved",
        "pending",
    )


def test_one_network_counts_once_however_many_user_agents(no_delay, settings):
    settings.REEX_FLAGS_TO_HOLD = 3
    comment = ApprovedCommentFactory.create()
    report(comment, 1, ip="198.51.100.9")
    report(comment, 2, ip="198.51.100.9")
    report(comment, 3, ip="2001:db8::1")
    report(comment, 4, ip="2001:db8::2")
    assert Flag.objects.count() == 4
    assert Comment.objects.get(pk=comment.pk).status == Status.APPROVED


def test_a_hidden_comment_waits_in_the_reported_queue_with_its_counts(no_delay, settings):
    settings.REEX_FLAGS_TO_HOLD = 2
    hidden, flagged, quiet = ApprovedCommentFactory.create_batch(3)
    report(flagged, 1, reason="off-topic")
    report(hidden, 1)
    report(hidden, 2, reason="abusive")
    queue = list(selectors.comments_reported())
    assert queue == [hidden, flagged]
    assert [getattr(c, "open_flags") for c in queue] == [2, 1]  # noqa: B009 (annotated)
    counts = selectors.comment_flag_counts(comment_ids=[hidden.pk, flagged.pk, quiet.pk])
    assert counts == {hidden.pk: {"spam": 1, "abusive": 1}, flagged.pk: {"off-topic": 1}}


def test_hiding_makes_the_public_list_stale(no_delay, settings, django_capture_on_commit_callbacks):
    settings.REEX_FLAGS_TO_HOLD = 1
    comment = ApprovedCommentFactory.create()
    cached = public_cache.public_list_cached(article_key=comment.article.key, url="u")
    with django_capture_on_commit_callbacks(execute=True):
        report(comment, 1)
    assert public_cache.public_list_cached(article_key=comment.article.key, url="u").version != (
        cached.version
    )


def test_approval_after_reports_clears_them_and_later_reports_do_not_hide(
    no_delay, settings, moderator
):
    settings.REEX_FLAGS_TO_HOLD = 2
    comment = ApprovedCommentFactory.create()
    report(comment, 1)
    report(comment, 2)
    comment_approve(comment=comment, actor=moderator)
    comment.refresh_from_db()
    assert comment.status == Status.APPROVED
    assert comment.reports_cleared_at is not None
    assert not Flag.objects.filter(cleared_at=None).exists()
    assert list(selectors.comments_reported()) == []
    report(comment, 3)
    report(comment, 4)
    assert Comment.objects.get(pk=comment.pk).status == Status.APPROVED
    assert list(selectors.comments_reported()) == [comment]


def test_approving_a_still_published_reported_comment_clears_its_reports(no_delay, moderator):
    comment = ApprovedCommentFactory.create()
    report(comment, 1)
    comment_approve(comment=comment, actor=moderator)
    assert Flag.objects.get().cleared_at is not None
    assert not ModerationEvent.objects.filter(comment=comment).exists()


def test_marking_a_reported_comment_spam_takes_it_out_of_the_queue(no_delay, moderator):
    comment = ApprovedCommentFactory.create()
    report(comment, 1)
    comment_mark_spam(comment=comment, actor=moderator)
    assert list(selectors.comments_reported()) == []
