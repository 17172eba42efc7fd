from datetime import timedelta

import pytest
from django.utils import timezone

from comments import checks
from comments.checks import Decision, Review
from comments.models import Comment, ModerationEvent, ModerationWord, Notification
from comments.services import comment_moderate
from tests.comments.factories import ApprovedCommentFactory, CommentFactory, WordFactory

pytestmark = pytest.mark.django_db
Status = Comment.Status


def moderated(comment: Comment) -> Comment:
    comment_moderate(comment_id=comment.pk)
    comment.refresh_from_db()
    return comment


def test_it_sanitises_before_deciding(no_delay):
    comment = moderated(CommentFactory.create(body="<script>x</script>hi"))
    assert "<script" not in comment.body_html
    assert comment.body == "<script>x</script>hi"


def test_it_approves_a_comment_that_passes_every_check(no_delay):
    comment = moderated(CommentFactory.create())
    assert comment.status == Status.APPROVED
    assert comment.reasons == ["Passed every check."]
    assert comment.spam_score is None
    assert comment.checked_at is not None


def test_it_records_an_audit_event_naming_the_rule(no_delay):
    comment = moderated(CommentFactory.create())
    event = ModerationEvent.objects.get(comment=comment)
    assert (event.from_status, event.to_status, event.rule, event.actor) == (
        "pending",
        "approved",
        "checks_passed",
        None,
    )


def test_a_second_run_does_nothing(no_delay):
    comment = moderated(CommentFactory.create())
    assert comment_moderate(comment_id=comment.pk) is None
    assert ModerationEvent.objects.filter(comment=comment).count() == 1


def test_it_leaves_a_comment_claimed_by_a_moderator_alone(no_delay, moderator):
    comment = CommentFactory.create()
    Comment.objects.filter(pk=comment.pk).update(status=Status.SPAM)
    assert comment_moderate(comment_id=comment.pk) is None
    comment.refresh_from_db()
    assert comment.status == Status.SPAM


def test_an_error_rolls_the_claim_back_so_a_retry_can_run(no_delay, mocker):
    comment = CommentFactory.create()
    mocker.patch("comments.services.moderation.moderation_decide", side_effect=RuntimeError("boom"))
    with pytest.raises(RuntimeError):
        comment_moderate(comment_id=comment.pk)
    comment.refresh_from_db()
    assert comment.checked_at is None
    mocker.stopall()
    assert moderated(comment).status == Status.APPROVED


def test_an_unknown_comment_is_nothing_to_do(no_delay):
    assert comment_moderate(comment_id=424242) is None


@pytest.mark.parametrize(
    "field,value",
    [
        ("body", "Win at the CASINO tonight"),
        ("author_name", "Casino Bob"),
        ("author_email", "bob@casino.example"),
        ("author_url", "https://casino.example.org"),
    ],
)
def test_block_words_mark_spam_matching_any_field_case_insensitively(no_delay, field, value):
    WordFactory.create(phrase="casino", action=ModerationWord.Action.BLOCK)
    comment = moderated(CommentFactory.create(**{field: value}))
    assert comment.status == Status.SPAM
    assert "casino" in comment.reasons[0]


def test_block_words_match_the_ip_address(no_delay):
    WordFactory.create(phrase="203.0.113.", action=ModerationWord.Action.BLOCK)
    assert moderated(CommentFactory.create(ip_address="203.0.113.50")).status == Status.SPAM


def test_block_words_win_over_hold_words(no_delay):
    WordFactory.create(phrase="casino", action=ModerationWord.Action.BLOCK)
    WordFactory.create(phrase="bonus", action=ModerationWord.Action.HOLD)
    assert moderated(CommentFactory.create(body="casino bonus")).status == Status.SPAM


def test_spam_does_not_notify_moderators(no_delay):
    WordFactory.create(phrase="casino", action=ModerationWord.Action.BLOCK)
    moderated(CommentFactory.create(body="casino"))
    assert not Notification.objects.exists()


def test_hold_words_hold_the_comment_for_a_human(no_delay):
    WordFactory.create(phrase="Bitcoin", action=ModerationWord.Action.HOLD)
    comment = moderated(CommentFactory.create(body="buy bitcoin now"))
    assert comment.status == Status.PENDING
    assert comment.checked_at is not None
    assert "bitcoin" in comment.reasons[0].lower()


def test_a_held_comment_notifies_moderators_after_commit(
    no_delay, django_capture_on_commit_callbacks
):
    WordFactory.create(phrase="bitcoin", action=ModerationWord.Action.HOLD)
    with django_capture_on_commit_callbacks(execute=True):
        comment = moderated(CommentFactory.create(body="bitcoin"))
    notification = Notification.objects.get(comment=comment)
    assert notification.kind == Notification.Kind.MODERATORS
    no_delay["notify"].assert_called_once_with(notification.pk)


def test_a_held_comment_still_has_an_audit_event_with_the_reason(no_delay):
    WordFactory.create(phrase="bitcoin", action=ModerationWord.Action.HOLD)
    comment = moderated(CommentFactory.create(body="bitcoin"))
    event = comment.events.get()
    assert (event.from_status, event.to_status, event.rule) == ("pending", "pending", "hold_words")


def test_max_links_or_more_holds_the_comment(no_delay, settings):
    settings.REEX_MAX_LINKS = 2
    assert moderated(CommentFactory.create(body="see http://a.org")).status == Status.APPROVED
    held = moderated(CommentFactory.create(body="see http://a.org and https://b.org"))
    assert held.status == Status.PENDING
    assert "2 links" in held.reasons[0]


def test_zero_max_links_disables_the_link_check(no_delay, settings):
    settings.REEX_MAX_LINKS = 0
    body = "http://a.org http://b.org http://c.org"
    assert moderated(CommentFactory.create(body=body)).status == Status.APPROVED


def test_mode_all_holds_every_comment(no_delay, settings):
    settings.REEX_MODERATION_MODE = "all"
    ApprovedCommentFactory.create(author_email="ann@example.org")
    comment = moderated(CommentFactory.create(author_email="ann@example.org"))
    assert comment.status == Status.PENDING


def test_mode_first_holds_a_first_time_author(no_delay, settings):
    settings.REEX_MODERATION_MODE = "first"
    assert moderated(CommentFactory.create(author_email="new@example.org")).status == Status.PENDING


def test_mode_first_approves_an_author_with_an_approved_comment(no_delay, settings):
    settings.REEX_MODERATION_MODE = "first"
    ApprovedCommentFactory.create(author_email="ann@example.org")
    comment = moderated(CommentFactory.create(author_email="ann@example.org"))
    assert comment.status == Status.APPROVED


def test_mode_auto_approves_a_first_time_author(no_delay, settings):
    settings.REEX_MODERATION_MODE = "auto"
    assert (
        moderated(CommentFactory.create(author_email="new@example.org")).status == Status.APPROVED
    )


def test_all_hold_reasons_are_kept(no_delay, settings):
    settings.REEX_MODERATION_MODE = "all"
    WordFactory.create(phrase="bitcoin", action=ModerationWord.Action.HOLD)
    comment = moderated(CommentFactory.create(body="bitcoin"))
    assert len(comment.reasons) == 2


def test_an_approved_reply_notifies_the_parent_author_who_opted_in(no_delay):
    parent = ApprovedCommentFactory.create(notify_replies=True)
    reply = moderated(CommentFactory.create(article=parent.article, parent=parent, depth=1))
    assert Notification.objects.get(comment=reply).kind == Notification.Kind.REPLY


def test_a_reply_does_not_notify_a_parent_author_who_did_not_opt_in(no_delay):
    parent = ApprovedCommentFactory.create(notify_replies=False)
    moderated(CommentFactory.create(article=parent.article, parent=parent, depth=1))
    assert not Notification.objects.exists()


def test_replying_to_yourself_sends_no_notification(no_delay):
    parent = ApprovedCommentFactory.create(notify_replies=True, author_email="ann@example.org")
    moderated(
        CommentFactory.create(article=parent.article, parent=parent, author_email="ann@example.org")
    )
    assert not Notification.objects.exists()


def test_extra_checks_can_score_and_decide(no_delay, monkeypatch):
    def scorer(review: Review) -> Decision | None:
        review.spam_score = 0.97
        return Decision(Status.SPAM, "classifier", "Spam score 0.97.")

    monkeypatch.setattr(checks, "CHECKS", [checks.check_block_words, scorer])
    comment = moderated(CommentFactory.create())
    assert (comment.status, comment.spam_score, comment.reasons) == (
        Status.SPAM,
        0.97,
        ["Spam score 0.97."],
    )


# --- batches --------------------------------------------------------------------------


def test_a_task_also_decides_the_other_unchecked_comments(no_delay):
    own, *others = CommentFactory.create_batch(3)
    assert comment_moderate(comment_id=own.pk) == own
    decided = Comment.objects.filter(status=Status.APPROVED, checked_at__isnull=False)
    assert set(decided.values_list("pk", flat=True)) == {own.pk, *(c.pk for c in others)}
    assert ModerationEvent.objects.filter(rule="checks_passed").count() == 3


def test_each_comment_of_a_batch_is_decided_on_its_own_merits(no_delay):
    WordFactory.create(phrase="casino", action=ModerationWord.Action.BLOCK)
    WordFactory.create(phrase="bitcoin", action=ModerationWord.Action.HOLD)
    fine = CommentFactory.create(body="A fine comment.")
    spam = CommentFactory.create(body="casino")
    held = CommentFactory.create(body="bitcoin")
    comment_moderate(comment_id=fine.pk)
    statuses = dict(Comment.objects.values_list("pk", "status"))
    assert statuses == {fine.pk: Status.APPROVED, spam.pk: Status.SPAM, held.pk: Status.PENDING}
    reasons = dict(Comment.objects.values_list("pk", "reasons"))
    assert "casino" in reasons[spam.pk][0] and "bitcoin" in reasons[held.pk][0]
    assert list(Notification.objects.values_list("comment_id", "kind")) == [
        (held.pk, Notification.Kind.MODERATORS)
    ]


def test_a_batch_takes_its_own_comment_then_the_next_up_to_the_batch_size(no_delay, settings):
    settings.REEX_MODERATION_BATCH = 2
    own, following, _last = CommentFactory.create_batch(3)
    comment_moderate(comment_id=own.pk)
    checked = Comment.objects.filter(checked_at__isnull=False)
    assert set(checked.values_list("pk", flat=True)) == {own.pk, following.pk}


def test_a_batch_leaves_an_older_backlog_to_the_sweep(no_delay):
    old = CommentFactory.create(created_at=timezone.now() - timedelta(minutes=5))
    own = CommentFactory.create()
    comment_moderate(comment_id=own.pk)
    old.refresh_from_db()
    assert old.checked_at is None


def test_a_task_whose_comment_was_decided_does_nothing(no_delay):
    done = moderated(CommentFactory.create())
    left = CommentFactory.create()
    assert comment_moderate(comment_id=done.pk) is None
    left.refresh_from_db()
    assert left.checked_at is None


def test_an_error_rolls_back_every_claim_of_the_batch(no_delay, mocker):
    comments = CommentFactory.create_batch(2)
    mocker.patch("comments.services.moderation.moderation_decide", side_effect=RuntimeError("boom"))
    with pytest.raises(RuntimeError):
        comment_moderate(comment_id=comments[0].pk)
    assert not Comment.objects.filter(checked_at__isnull=False).exists()
    assert not ModerationEvent.objects.exists()


def test_a_batch_makes_each_articles_public_list_stale_once(
    no_delay, mocker, django_capture_on_commit_callbacks
):
    bump = mocker.patch("comments.services.transitions.public_list_cache_bump")
    first = CommentFactory.create()
    CommentFactory.create(article=first.article)
    other = CommentFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        comment_moderate(comment_id=first.pk)
    keys = sorted(call.kwargs["article_key"] for call in bump.call_args_list)
    assert keys == sorted([first.article.key, other.article.key])


def test_with_akismet_asked_a_task_decides_only_its_own_comment(no_delay, settings, mocker):
    settings.AKISMET_API_KEY, settings.AKISMET_SITE_URL = "key", "https://news.example.org/"
    mocker.patch("comments.spam.akismet.akismet_check", return_value=False)
    own, other = CommentFactory.create_batch(2)
    comment_moderate(comment_id=own.pk)
    other.refresh_from_db()
    assert (other.status, other.checked_at) == (Status.PENDING, None)
