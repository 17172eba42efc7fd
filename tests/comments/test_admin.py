from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group

from comments.models import Comment, ModerationEvent
from tests.comments.factories import (
    ApprovedCommentFactory,
    ArticleFactory,
    CommentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/comments/comment/"
Status = Comment.Status


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


def run_action(client, action: str, *comments: Comment):
    data = {"action": f"{action}_selected", "_selected_action": [c.pk for c in comments]}
    return client.post(CHANGELIST, data, follow=True)


def test_the_moderators_group_has_just_the_moderation_permissions():
    codenames = set(
        Group.objects.get(name="Moderators").permissions.values_list("codename", flat=True)
    )
    assert codenames == {
        "view_article",
        "change_article",
        "view_comment",
        "moderate_comment",
        "view_moderationevent",
        "view_moderationword",
        "add_moderationword",
        "change_moderationword",
        "delete_moderationword",
        "view_spammodelversion",
        "retrain_spam_filter",
        "view_ban",
        "add_ban",
        "change_ban",
        "view_flag",
    }


def test_the_list_shows_what_moderators_need(moderator_client):
    CommentFactory.create(
        author_name="Zed", author_email="zed@example.org", spam_score=0.42, reasons=["Held here."]
    )
    html = moderator_client.get(CHANGELIST).content.decode()
    for text in ["Zed", "zed@example.org", "0.42", "Held here.", "Pending"]:
        assert text in html


def test_the_list_shows_the_pending_and_spam_counts(moderator_client):
    CommentFactory.create_batch(3)
    CommentFactory.create_batch(2, status=Status.SPAM)
    html = moderator_client.get(CHANGELIST).content.decode()
    assert "Pending: 3" in html
    assert "Spam: 2" in html


def test_the_list_query_count_does_not_grow_with_comments(
    moderator_client, django_assert_max_num_queries
):
    CommentFactory.create_batch(30)
    with django_assert_max_num_queries(20):
        assert moderator_client.get(CHANGELIST).status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "query,field,value",
    [
        ("status__exact=spam", "status", Status.SPAM),
        ("q=needle@example.org", "author_email", "needle@example.org"),
        ("q=198.51.100.77", "ip_address", "198.51.100.77"),
        ("q=haystack-body", "body", "the haystack-body here"),
    ],
)
def test_the_list_filters_and_searches(moderator_client, query, field, value):
    match = CommentFactory.create(**{field: value}, author_name="Findme")
    CommentFactory.create(author_name="Other", body="unrelated")
    html = moderator_client.get(f"{CHANGELIST}?{query}").content.decode()
    assert f"/admin/comments/comment/{match.pk}/change/" in html
    assert "Other" not in html.split("result_list")[1]


def test_the_list_searches_by_article(moderator_client):
    article = ArticleFactory.create(key="findable-article")
    CommentFactory.create(article=article, author_name="Findme")
    CommentFactory.create(author_name="Other")
    html = moderator_client.get(f"{CHANGELIST}?q=findable-article").content.decode()
    assert "Findme" in html and "Other" not in html.split("result_list")[1]


@pytest.mark.parametrize(
    "action,start,end",
    [
        ("approve", Status.PENDING, Status.APPROVED),
        ("spam", Status.APPROVED, Status.SPAM),
        ("ham", Status.SPAM, Status.APPROVED),
        ("trash", Status.PENDING, Status.TRASH),
    ],
)
def test_bulk_actions_go_through_the_service_and_are_audited(
    moderator_client, moderator, no_delay, action, start, end
):
    comments = CommentFactory.create_batch(2, status=start)
    response = run_action(moderator_client, action, *comments)
    assert response.status_code == HTTPStatus.OK
    assert set(Comment.objects.values_list("status", flat=True)) == {end}
    events = ModerationEvent.objects.filter(actor=moderator, action=action)
    assert events.count() == 2


def test_restore_returns_trashed_comments_and_skips_the_others(moderator_client, no_delay):
    trashed = CommentFactory.create(status=Status.TRASH, status_before_trash=Status.APPROVED)
    live = ApprovedCommentFactory.create()
    response = run_action(moderator_client, "restore", trashed, live)
    assert "1 comment(s) skipped" in response.content.decode()
    assert Comment.objects.get(pk=trashed.pk).status == Status.APPROVED
    assert Comment.objects.get(pk=live.pk).status == Status.APPROVED


def test_the_change_page_shows_raw_and_sanitised_text_origin_history_and_thread(
    moderator_client, moderator, no_delay
):
    top = ApprovedCommentFactory.create(author_name="Ada")
    comment = CommentFactory.create(
        article=top.article,
        parent=top,
        root=top,
        depth=1,
        body="<b>raw</b> http://x.org",
        user_agent="Agent/7",
        ip_address="198.51.100.9",
    )
    run_action(moderator_client, "approve", comment)
    html = moderator_client.get(f"/admin/comments/comment/{comment.pk}/change/").content.decode()
    assert "&lt;b&gt;raw&lt;/b&gt;" in html
    assert '<b>raw</b> <a href="http://x.org" rel="nofollow ugc noopener">' in html
    assert "198.51.100.9" in html and "Agent/7" in html
    assert "audit history" in html.lower() and moderator.username in html
    assert f"/admin/comments/comment/{top.pk}/change/" in html


def test_a_moderator_cannot_add_or_delete_comments(moderator_client):
    comment = CommentFactory.create()
    assert moderator_client.get("/admin/comments/comment/add/").status_code == 403
    response = moderator_client.get(f"/admin/comments/comment/{comment.pk}/delete/")
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_a_moderator_edits_the_word_lists(moderator_client):
    response = moderator_client.post(
        "/admin/comments/moderationword/add/", {"phrase": "casino", "action": "block", "note": ""}
    )
    assert response.status_code == HTTPStatus.FOUND


def test_staff_without_the_moderate_permission_gets_no_actions(client, no_delay):
    viewer = UserFactory.create(is_staff=True)
    viewer.user_permissions.add(
        *Group.objects.get(name="Moderators").permissions.exclude(codename="moderate_comment")
    )
    client.force_login(viewer)
    comment = CommentFactory.create()
    assert "approve_selected" not in client.get(CHANGELIST).content.decode()
    run_action(client, "approve", comment)
    assert Comment.objects.get(pk=comment.pk).status == Status.PENDING


def test_a_plain_user_cannot_open_the_admin(client, plain_user):
    client.force_login(plain_user)
    assert client.get(CHANGELIST).status_code == HTTPStatus.FOUND
