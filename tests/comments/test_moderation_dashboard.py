from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.utils import timezone

from comments import services
from comments.dashboard import dashboard_days, reversal_rate
from comments.models import Comment, ModerationDay, ModerationEvent
from comments.services.summary import percentile
from tests.comments.factories import CommentFactory, UserFactory, make_moderator

pytestmark = pytest.mark.django_db
DASHBOARD = "/admin/comments/moderationday/"
Status = Comment.Status


def event(comment, *, at, to, frm=Status.PENDING, action="check", actor=None, rule=""):
    return ModerationEvent.objects.create(
        comment=comment,
        created_at=at,
        to_status=to,
        from_status=frm,
        action=action,
        actor=actor,
        rule=rule or ("" if actor else "checks"),
    )


@pytest.fixture
def now():
    return timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)


def test_a_day_counts_its_comments_by_outcome(now):
    for status in [Status.APPROVED, Status.APPROVED, Status.SPAM, Status.PENDING]:
        CommentFactory.create(created_at=now - timedelta(hours=1), status=status)
    CommentFactory.create(created_at=now - timedelta(days=1), status=Status.TRASH)

    row = services.moderation_day_refresh(day=now.date(), now=now)

    assert row.outcomes == {"approved": 2, "spam": 1, "pending": 1}


def test_time_to_decision_counts_each_comments_first_decision(now):
    moderator = make_moderator(username="m")
    quick = CommentFactory.create(created_at=now - timedelta(seconds=2))
    event(quick, at=now - timedelta(seconds=1), to=Status.APPROVED)
    waited = CommentFactory.create(created_at=now - timedelta(hours=3))
    event(waited, at=now - timedelta(hours=3), to=Status.PENDING)  # held by the checks
    event(waited, at=now, to=Status.APPROVED, action="approve", actor=moderator)
    # Reported later and approved again: not a first decision.
    event(quick, at=now, frm=Status.PENDING, to=Status.APPROVED, action="approve", actor=moderator)

    row = services.moderation_day_refresh(day=now.date(), now=now)

    assert row.decided == 2
    assert row.decision_p50 == 1.0 and row.decision_p95 == 3 * 3600
    assert row.decided_by_moderators == 1 and row.moderator_p50 == 3 * 3600


def test_reversals_count_moderators_overturning_the_checks(now):
    moderator = make_moderator(username="m")
    caught = CommentFactory.create(created_at=now - timedelta(hours=1))
    event(caught, at=now - timedelta(hours=1), to=Status.SPAM)
    event(caught, at=now, frm=Status.SPAM, to=Status.APPROVED, action="ham", actor=moderator)
    missed = CommentFactory.create(created_at=now - timedelta(hours=1))
    event(missed, at=now - timedelta(hours=1), to=Status.APPROVED)
    event(missed, at=now, frm=Status.APPROVED, to=Status.SPAM, action="spam", actor=moderator)
    agreed = CommentFactory.create(created_at=now - timedelta(hours=1))
    event(agreed, at=now - timedelta(hours=1), to=Status.SPAM)
    event(agreed, at=now, frm=Status.SPAM, to=Status.TRASH, action="trash", actor=moderator)

    row = services.moderation_day_refresh(day=now.date(), now=now)

    assert (row.checked, row.reversed_spam, row.reversed_approved) == (3, 1, 1)
    assert reversal_rate(dashboard_days(today=now.date())) == pytest.approx(2 / 3)


def test_actions_are_counted_per_moderator(now):
    ann, bob = make_moderator(username="ann"), make_moderator(username="bob")
    comment = CommentFactory.create(created_at=now - timedelta(hours=1))
    for actor, action in [(ann, "approve"), (ann, "approve"), (ann, "spam"), (bob, "trash")]:
        event(comment, at=now, to=Status.APPROVED, action=action, actor=actor)

    row = services.moderation_day_refresh(day=now.date(), now=now)

    assert row.actions == {str(ann.pk): {"approve": 2, "spam": 1}, str(bob.pk): {"trash": 1}}


def test_the_queue_size_is_recorded_only_while_the_day_lasts(now):
    CommentFactory.create(checked_at=now)
    CommentFactory.create()  # not checked yet: not waiting for a moderator

    today = services.moderation_day_refresh(day=now.date(), now=now)
    earlier = services.moderation_day_refresh(day=now.date() - timedelta(days=3), now=now)

    assert today.queue_size == 1
    assert earlier.queue_size is None


def test_the_first_refresh_covers_yesterday_and_today(now):
    days = services.moderation_summary_refresh(now=now)
    assert days == [now.date() - timedelta(days=1), now.date()]


def test_a_refresh_recounts_the_days_of_comments_decided_since(now):
    services.moderation_summary_refresh(now=now - timedelta(hours=1))
    old = CommentFactory.create(created_at=now - timedelta(days=9), status=Status.APPROVED)
    event(old, at=now, to=Status.APPROVED, action="approve", actor=make_moderator(username="m"))

    days = services.moderation_summary_refresh(now=now)

    assert days == [now.date() - timedelta(days=9), now.date()]
    recounted = ModerationDay.objects.get(day=now.date() - timedelta(days=9))
    assert recounted.outcomes == {"approved": 1}


def test_the_first_refresh_after_midnight_finishes_the_day_before(now):
    services.moderation_summary_refresh(now=now - timedelta(hours=12, minutes=1))
    days = services.moderation_summary_refresh(now=now)
    assert days == [now.date() - timedelta(days=1), now.date()]


def test_the_backfill_command_summarises_the_last_days(now):
    call_command("moderation_summary", "--days", "5")
    assert ModerationDay.objects.count() == 5


def test_the_percentile_is_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([float(n) for n in range(1, 101)], 95) == 95.0


def test_the_summary_task_is_on_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["comments-moderation-summary"]
    assert entry["task"] == "comments.tasks.refresh_moderation_summary"


# --- the page ----------------------------------------------------------------------------


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


def test_the_dashboard_draws_its_charts_as_inline_svg(moderator_client, moderator, now):
    comment = CommentFactory.create(created_at=now - timedelta(hours=2))
    event(comment, at=now, to=Status.APPROVED, action="approve", actor=moderator)
    services.moderation_summary_refresh()

    html = moderator_client.get(DASHBOARD).content.decode()

    assert html.count('<svg class="chart"') == 6
    assert "<script" not in html.split('<svg class="chart"', 1)[1]
    assert "Comments per day by outcome" in html
    assert '<th scope="row">mod</th>' in html
    assert " style=" not in html


def test_the_dashboard_reads_the_summary_not_the_events(
    moderator_client, django_assert_max_num_queries, now
):
    comments = CommentFactory.create_batch(20, created_at=now - timedelta(hours=1))
    for comment in comments:
        event(comment, at=now, to=Status.APPROVED)
    services.moderation_days_refresh(days=[now.date() - timedelta(days=n) for n in range(30)])

    with django_assert_max_num_queries(14) as queries:
        assert moderator_client.get(DASHBOARD).status_code == HTTPStatus.OK

    statements = [q["sql"] for q in queries.captured_queries]
    assert any("comments_moderationday" in sql for sql in statements)
    assert not any("comments_moderationevent" in sql for sql in statements)
    # The queue sizes: one count per status, each stopping at the paginator's bound.
    counts = [sql for sql in statements if '"comments_comment"' in sql]
    assert len(counts) <= 4
    assert all("LIMIT" in sql or "GROUP BY" in sql for sql in counts)


def test_the_dashboard_says_how_to_fill_an_empty_summary(moderator_client):
    html = moderator_client.get(DASHBOARD).content.decode()
    assert "manage.py moderation_summary" in html


def test_the_dashboard_refuses_staff_without_the_permission(client):
    client.force_login(UserFactory.create(is_staff=True))
    assert client.get(DASHBOARD).status_code == HTTPStatus.FORBIDDEN
