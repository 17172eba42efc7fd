from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from comments.models import Ban, Comment, Flag, ModerationEvent
from comments.queues import author_history, comment_action_for_key, queue_comments
from tests.comments.factories import (
    ApprovedCommentFactory,
    CommentFactory,
    UserFactory,
    make_moderator,
)

pytestmark = pytest.mark.django_db
QUEUE = "/admin/comments/moderationqueue/"
JSON = {"HTTP_ACCEPT": "application/json"}
Status = Comment.Status


def held(**kwargs):
    return CommentFactory.create(checked_at=timezone.now(), body_html="<p>held</p>", **kwargs)


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


def act(client, comment, action, **extra):
    return client.post(f"{QUEUE}{comment.pk}/act/", {"action": action, **extra}, **JSON)


def test_the_pending_queue_shows_held_comments_with_what_a_moderator_needs(moderator_client):
    comment = held(author_name="Zed", spam_score=0.42, reasons=["Held: a link."])
    CommentFactory.create(author_name="Unchecked")  # the workers decide it within seconds

    html = moderator_client.get(QUEUE).content.decode()

    for text in ["Zed", comment.author_email, "0.42", "Held: a link.", "<p>held</p>"]:
        assert text in html
    assert str(comment.article) in html
    assert "Unchecked" not in html
    assert 'data-key="a"' in html and 'data-key="s"' in html and 'data-key="d"' in html


def test_each_queue_lists_its_comments_newest_first():
    older = held()
    newer = held()
    spam = CommentFactory.create(status=Status.SPAM)

    assert list(queue_comments(queue="pending")) == [newer, older]
    assert list(queue_comments(queue="spam")) == [spam]
    assert list(queue_comments(queue="recent")) == [spam, newer, older]


def test_the_queue_page_query_count_does_not_grow_with_comments(
    moderator_client, django_assert_max_num_queries
):
    held()
    with django_assert_max_num_queries(14) as small:
        moderator_client.get(QUEUE)
    for _ in range(30):
        held()
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert moderator_client.get(QUEUE).status_code == HTTPStatus.OK
    with django_assert_max_num_queries(len(small.captured_queries) + 1):  # the table estimate
        assert moderator_client.get(QUEUE + "?queue=recent").status_code == HTTPStatus.OK


def test_the_queue_is_paginated(moderator_client):
    for _ in range(25):
        held()
    first = moderator_client.get(QUEUE).content.decode()
    second = moderator_client.get(QUEUE + "?page=2").content.decode()
    assert first.count('class="queue-row') == 20
    assert second.count('class="queue-row') == 5
    assert "Page 2 of 2" in second


def test_a_staff_user_without_the_permission_is_refused(client):
    client.force_login(UserFactory.create(is_staff=True))
    comment = held()

    assert client.get(QUEUE).status_code == HTTPStatus.FORBIDDEN
    assert act(client, comment, "approve").status_code == HTTPStatus.FORBIDDEN
    assert client.get(f"{QUEUE}{comment.pk}/history/").status_code == HTTPStatus.FORBIDDEN
    comment.refresh_from_db()
    assert comment.status == Status.PENDING


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(QUEUE)
    assert response.status_code == HTTPStatus.FOUND
    assert "/admin/login/" in response["Location"]


def test_an_action_by_fetch_answers_the_new_row_and_its_event(moderator_client, moderator):
    comment = held()

    response = act(moderator_client, comment, "approve")

    data = response.json()
    comment.refresh_from_db()
    event = ModerationEvent.objects.get(comment=comment)
    assert comment.status == Status.APPROVED
    assert (event.actor, event.action, event.to_status) == (moderator, "approve", "approved")
    assert data["status"] == "approved" and data["event"] == event.pk
    assert f'data-event="{event.pk}"' in data["row"] and "Undo" in data["row"]


@pytest.mark.parametrize(
    "action,status", [("spam", Status.SPAM), ("trash", Status.TRASH), ("approve", Status.APPROVED)]
)
def test_each_action_writes_one_audit_event(moderator_client, action, status):
    comment = held()
    act(moderator_client, comment, action)
    comment.refresh_from_db()
    assert comment.status == status
    assert ModerationEvent.objects.filter(comment=comment).count() == 1


def test_without_javascript_a_form_posts_and_comes_back_with_an_undo(moderator_client):
    comment = held()
    back = QUEUE + "?queue=pending&page=1"

    response = moderator_client.post(f"{QUEUE}{comment.pk}/act/", {"action": "spam", "next": back})

    event = ModerationEvent.objects.get(comment=comment)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{back}&done={event.pk}"
    page = moderator_client.get(response["Location"]).content.decode()
    assert f'name="event" value="{event.pk}"' in page
    assert "Marked spam: the comment by" in page


def test_the_form_never_goes_back_to_another_site(moderator_client):
    comment = held()
    response = moderator_client.post(
        f"{QUEUE}{comment.pk}/act/", {"action": "spam", "next": "https://evil.example/"}
    )
    assert response["Location"].startswith(QUEUE)


def test_an_unknown_action_is_a_clear_400(moderator_client):
    response = act(moderator_client, held(), "publish")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["detail"] == "Unknown action."


def test_restoring_outside_the_trash_is_a_409(moderator_client):
    response = act(moderator_client, held(), "restore")
    assert response.status_code == HTTPStatus.CONFLICT


def test_actions_need_post(moderator_client):
    comment = held()
    assert moderator_client.get(f"{QUEUE}{comment.pk}/act/").status_code == 405


def test_undo_returns_the_comment_to_its_status_with_an_audit_event(moderator_client):
    comment = held()
    event_id = act(moderator_client, comment, "trash").json()["event"]

    response = moderator_client.post(f"{QUEUE}{comment.pk}/undo/", {"event": event_id}, **JSON)

    comment.refresh_from_db()
    assert response.json()["status"] == "pending"
    assert comment.status == Status.PENDING and comment.status_before_trash == ""
    actions = list(comment.events.values_list("action", "from_status", "to_status"))
    assert actions == [("trash", "pending", "trash"), ("undo", "trash", "pending")]


def test_undoing_a_spam_verdict_reversal_puts_it_back_in_spam(moderator_client):
    comment = CommentFactory.create(status=Status.SPAM, checked_at=timezone.now())
    event_id = act(moderator_client, comment, "ham").json()["event"]
    moderator_client.post(f"{QUEUE}{comment.pk}/undo/", {"event": event_id}, **JSON)
    comment.refresh_from_db()
    assert comment.status == Status.SPAM


def test_only_the_latest_decision_of_the_same_moderator_can_be_undone(moderator_client):
    comment = held()
    event_id = act(moderator_client, comment, "approve").json()["event"]
    other = make_moderator(username="other")
    Comment.objects.filter(pk=comment.pk).update(status=Status.APPROVED)
    ModerationEvent.objects.create(
        comment=comment, actor=other, action="spam", from_status="approved", to_status="spam"
    )

    response = moderator_client.post(f"{QUEUE}{comment.pk}/undo/", {"event": event_id}, **JSON)

    assert response.status_code == HTTPStatus.CONFLICT
    assert comment.events.count() == 2


def test_an_undo_cannot_be_undone_again(moderator_client):
    comment = held()
    event_id = act(moderator_client, comment, "approve").json()["event"]
    moderator_client.post(f"{QUEUE}{comment.pk}/undo/", {"event": event_id}, **JSON)
    undo = comment.events.last()
    response = moderator_client.post(f"{QUEUE}{comment.pk}/undo/", {"event": undo.pk}, **JSON)
    assert response.status_code == HTTPStatus.CONFLICT


@pytest.mark.parametrize(
    "status,key,action",
    [
        (Status.PENDING, "a", "approve"),
        (Status.SPAM, "a", "ham"),
        (Status.SPAM, "s", None),
        (Status.TRASH, "r", "restore"),
        (Status.APPROVED, "d", "trash"),
        (Status.APPROVED, "a", None),
    ],
)
def test_keys_stand_for_the_action_that_applies(status, key, action):
    assert comment_action_for_key(status=status, key=key) == action


def test_the_history_shows_the_same_address_and_the_same_ip():
    comment = held(author_email="ann@example.org", ip_address="198.51.100.9")
    ApprovedCommentFactory.create(author_email="ann@example.org", ip_address="192.0.2.1")
    CommentFactory.create(author_email="ann@example.org", status=Status.SPAM)
    sock = CommentFactory.create(author_email="sock@example.org", ip_address="198.51.100.9")
    CommentFactory.create(author_email="else@example.org", ip_address="192.0.2.200")

    history = author_history(comment=comment)

    assert {c.status for c in history.by_email} == {Status.APPROVED, Status.SPAM}
    assert history.by_ip == [sock]
    assert history.email_counts == {"Pending": 1, "Approved": 1, "Spam": 1}


def test_the_history_is_bounded_and_a_few_queries(django_assert_max_num_queries):
    comment = held(author_email="busy@example.org")
    CommentFactory.create_batch(15, author_email="busy@example.org")
    with django_assert_max_num_queries(3):
        history = author_history(comment=comment)
    assert len(history.by_email) == 10


def test_the_history_fragment_and_page(moderator_client):
    comment = held(author_email="ann@example.org")
    CommentFactory.create(author_email="ann@example.org", body="An earlier word here.")
    fragment = moderator_client.get(f"{QUEUE}{comment.pk}/history/?fragment=1").content.decode()
    page = moderator_client.get(f"{QUEUE}{comment.pk}/history/").content.decode()
    assert "An earlier word here." in fragment and "<html" not in fragment
    assert "An earlier word here." in page and "<html" in page


def test_a_comments_own_page_has_the_buttons_and_they_come_back_to_it(moderator_client):
    comment = held()
    page = f"/admin/comments/comment/{comment.pk}/change/"

    html = moderator_client.get(page).content.decode()
    response = moderator_client.post(f"{QUEUE}{comment.pk}/act/", {"action": "spam", "next": page})

    assert f'action="{QUEUE}{comment.pk}/act/"' in html
    assert 'value="approve"' in html and 'value="trash"' in html
    assert response["Location"].startswith(page)
    after = moderator_client.get(page).content.decode()
    assert "Undo my spam" in after and 'value="ham"' in after


def test_the_comments_page_shows_no_buttons_without_the_permission(client):
    user = UserFactory.create(is_staff=True, is_superuser=False)
    user.user_permissions.add(Permission.objects.get(codename="view_comment"))
    client.force_login(user)
    comment = held()
    html = client.get(f"/admin/comments/comment/{comment.pk}/change/").content.decode()
    assert f"{QUEUE}{comment.pk}/act/" not in html


def test_the_admin_index_links_the_queue_and_the_dashboard(moderator_client):
    html = moderator_client.get("/admin/").content.decode()
    assert QUEUE in html
    assert "/admin/comments/moderationday/" in html


# --- the reported queue ------------------------------------------------------------------


def report(comment, n: int, reason: str = "abusive"):
    for i in range(n):
        Flag.objects.create(comment=comment, reason=reason, reporter=f"r{i}", source=f"s{i}")


def test_the_reported_queue_shows_reported_comments_with_their_reasons(moderator_client):
    reported = ApprovedCommentFactory.create(author_name="Loud")
    report(reported, 2)
    ApprovedCommentFactory.create(author_name="Quiet")

    html = moderator_client.get(QUEUE + "?queue=reported").content.decode()

    assert "Loud" in html and "Quiet" not in html
    assert "Reported 2 times: abusive 2" in html
    assert "Keep (clear reports)" in html
    assert "Reported (1)" in html


def test_keeping_a_reported_comment_clears_its_reports(moderator_client):
    reported = ApprovedCommentFactory.create()
    report(reported, 2)

    data = act(moderator_client, reported, "approve").json()

    assert data["status"] == "approved"
    assert not Flag.objects.filter(comment=reported, cleared_at=None).exists()
    assert "Reported" not in data["row"]
    assert "Reported (0)" in moderator_client.get(QUEUE).content.decode()


def test_the_reported_queue_query_count_does_not_grow(
    moderator_client, django_assert_max_num_queries
):
    for _ in range(10):
        report(ApprovedCommentFactory.create(), 2)
    with django_assert_max_num_queries(16):
        assert moderator_client.get(QUEUE + "?queue=reported").status_code == HTTPStatus.OK


# --- banning from the queue --------------------------------------------------------------


@pytest.fixture
def banning_client(moderator_client, moderator):
    moderator.user_permissions.add(Permission.objects.get(codename="add_ban"))
    return moderator_client


def ban(client, comment, **fields):
    data = {"target": "email", "duration": "7", "reason": "spam run", "spam": "on", **fields}
    return client.post(f"{QUEUE}{comment.pk}/ban/", data, **JSON)


def test_b_bans_the_address_for_a_time_and_marks_the_comment_spam(banning_client, moderator):
    comment = held(author_email="troll@example.org")

    data = ban(banning_client, comment).json()

    found = Ban.objects.get()
    comment.refresh_from_db()
    assert (found.email, found.reason, found.created_by) == (
        "troll@example.org",
        "spam run",
        moderator,
    )
    assert found.expires_at is not None
    assert found.expires_at - timezone.now() > timedelta(days=6, hours=23)
    assert comment.status == Status.SPAM and data["status"] == "spam" and data["event"]
    assert data["message"].startswith("Banned troll@example.org until ")


def test_a_ban_of_the_ip_address(banning_client):
    comment = held(ip_address="198.51.100.4")
    ban(banning_client, comment, target="ip", spam="")
    comment.refresh_from_db()
    assert Ban.objects.get().network == "198.51.100.4/32"
    assert comment.status == Status.PENDING


def test_a_ban_for_good_needs_a_confirmation(banning_client):
    comment = held()

    refused = ban(banning_client, comment, duration="forever")
    confirmed = ban(banning_client, comment, duration="forever", confirm="on")

    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert "confirm" in refused.json()["errors"]
    assert confirmed.status_code == HTTPStatus.OK
    assert Ban.objects.get().expires_at is None
    assert "for good" in confirmed.json()["message"]


@pytest.mark.parametrize("fields", [{"duration": "12"}, {"target": "ip"}, {"target": ""}])
def test_a_bad_ban_form_is_a_400_per_field_and_bans_nothing(banning_client, fields):
    comment = held(ip_address=None)
    response = ban(banning_client, comment, **fields)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()["errors"]) <= {"duration", "target"}
    assert not Ban.objects.exists()


def test_moderators_may_ban():
    assert make_moderator(username="m2").has_perm("comments.add_ban")


def test_banning_needs_the_ban_permission(client):
    user = UserFactory.create(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="moderate_comment"))
    client.force_login(user)
    comment = held()
    assert ban(client, comment).status_code == HTTPStatus.FORBIDDEN
    assert "Ban…" not in client.get(QUEUE).content.decode()
    assert not Ban.objects.exists()


def test_banning_an_address_already_banned_keeps_that_ban(banning_client):
    first, second = held(author_email="troll@example.org"), held(author_email="troll@example.org")
    ban(banning_client, first)
    ban(banning_client, second, duration="30")
    second.refresh_from_db()
    assert Ban.objects.count() == 1
    assert second.status == Status.SPAM


def test_the_ban_form_works_without_javascript(banning_client):
    comment = held()
    page = banning_client.get(f"{QUEUE}{comment.pk}/ban/?next={QUEUE}").content.decode()
    response = banning_client.post(
        f"{QUEUE}{comment.pk}/ban/",
        {"target": "email", "duration": "1", "spam": "on", "next": QUEUE},
    )
    assert "the address" in page and 'name="duration"' in page
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(QUEUE + "?done=")


def test_the_ban_form_loads_as_a_fragment_for_the_page(banning_client):
    comment = held(ip_address="198.51.100.4")
    response = banning_client.get(f"{QUEUE}{comment.pk}/ban/?fragment=1")
    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "<html" not in html and "the IP address 198.51.100.4" in html
