from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from comments.models import Comment
from comments.services import CommentFlood, CommentsClosed, DuplicateComment, comment_create
from tests.comments.factories import ApprovedCommentFactory, ArticleFactory, CommentFactory

pytestmark = pytest.mark.django_db


def create(**overrides):
    fields: dict[str, Any] = {
        "article": overrides.pop("article", None) or ArticleFactory.create(),
        "author_name": "Ann",
        "author_email": "ann@example.org",
        "body": "A fine article.",
        "ip": "198.51.100.1",
    }
    fields.update(overrides)
    return comment_create(**fields)


def errors_of(**overrides) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        create(**overrides)
    return caught.value.message_dict


def test_it_saves_a_pending_unchecked_comment(no_delay):
    comment = create(author_url="https://ann.example.org", user_agent="Firefox")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING
    assert comment.checked_at is None
    assert comment.body_html == ""
    assert comment.ip_address == "198.51.100.1"
    assert comment.user_agent == "Firefox"


def test_it_queues_moderation_after_commit(django_capture_on_commit_callbacks, mocker):
    delay = mocker.patch("comments.tasks.moderate_comment.delay")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        comment = create()
    delay.assert_not_called()
    for callback in callbacks:
        callback()
    delay.assert_called_once_with(comment.pk)


def test_it_trims_the_fields_and_lowercases_the_email(no_delay):
    comment = create(author_name="  Ann ", author_email=" Ann@Example.ORG ", body="\n hi there \n")
    assert (comment.author_name, comment.author_email, comment.body) == (
        "Ann",
        "ann@example.org",
        "hi there",
    )


def test_it_normalises_windows_newlines_in_the_body(no_delay):
    assert create(body="one\r\ntwo").body == "one\ntwo"


def test_it_reports_every_invalid_field_at_once(no_delay):
    errors = errors_of(author_name="", author_email="not-an-email", body="x", author_url="ftp://x")
    assert set(errors) == {"author_name", "author_email", "body", "author_url"}
    assert Comment.objects.count() == 0


@pytest.mark.parametrize("field", ["author_name", "author_email", "body"])
def test_it_requires_name_email_and_body(no_delay, field):
    assert errors_of(**{field: "   "})[field] == ["This field is required."]


def test_it_limits_the_name_to_100_characters(no_delay):
    assert "author_name" in errors_of(author_name="n" * 101)
    assert create(author_name="n" * 100).author_name == "n" * 100


def test_it_limits_the_email_to_254_characters(no_delay):
    assert "author_email" in errors_of(author_email="a" * 250 + "@x.org")


def test_it_refuses_an_invalid_email(no_delay):
    assert "author_email" in errors_of(author_email="ann@")


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://example.org", "example", "mailto:a@b.c"]
)
def test_it_accepts_only_http_and_https_websites(no_delay, url):
    assert "author_url" in errors_of(author_url=url)


def test_it_limits_the_website_to_200_characters(no_delay):
    assert "author_url" in errors_of(author_url="https://example.org/" + "a" * 190)


def test_it_needs_a_body_of_at_least_two_characters_after_trimming(no_delay):
    assert "body" in errors_of(body="  a  ")
    assert create(body=" ab ").body == "ab"


def test_it_limits_the_body_to_5000_characters(no_delay):
    assert "body" in errors_of(body="b" * 5001)
    assert len(create(body="b" * 5000).body) == 5000


@pytest.mark.parametrize("field", ["author_name", "body", "author_url"])
@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800"])
def test_it_refuses_control_characters_as_a_field_error(no_delay, field, char):
    value = {"author_url": f"https://example.org/a{char}b"}.get(field, f"hello{char}world")
    assert field in errors_of(**{field: value})


def test_it_refuses_newlines_in_the_name(no_delay):
    assert "author_name" in errors_of(author_name="Ann\nSmith")


def test_it_keeps_newlines_and_tabs_in_the_body(no_delay):
    assert create(body="one\n\ttwo").body == "one\n\ttwo"


def test_it_refuses_comments_on_a_closed_article(no_delay):
    with pytest.raises(CommentsClosed):
        create(article=ArticleFactory.create(comments_open=False))


def test_it_closes_comments_after_the_configured_age(no_delay, settings):
    settings.REEX_CLOSE_COMMENTS_AFTER_DAYS = 30
    old = ArticleFactory.create(published_at=timezone.now() - timedelta(days=31))
    with pytest.raises(CommentsClosed):
        create(article=old)
    assert create(article=ArticleFactory.create(published_at=timezone.now() - timedelta(days=29)))


def test_it_never_closes_by_age_when_the_setting_is_zero(no_delay, settings):
    settings.REEX_CLOSE_COMMENTS_AFTER_DAYS = 0
    assert create(article=ArticleFactory.create(published_at=timezone.now() - timedelta(days=3650)))


def test_it_refuses_a_duplicate_on_the_same_article(no_delay):
    article = ArticleFactory.create()
    create(article=article, ip="198.51.100.1")
    with pytest.raises(DuplicateComment):
        create(article=article, author_email="ANN@example.org", ip="198.51.100.2")


def test_it_allows_the_same_text_again_after_a_trashed_one(no_delay, settings):
    settings.REEX_COMMENT_FLOOD_SECONDS = 0
    article = ArticleFactory.create()
    CommentFactory.create(
        article=article, author_email="ann@example.org", body="Same", status="trash"
    )
    assert create(article=article, body="Same")


def test_it_refuses_a_flood_from_the_same_ip_with_the_seconds_left(no_delay, settings):
    settings.REEX_COMMENT_FLOOD_SECONDS = 15
    CommentFactory.create(
        ip_address="198.51.100.1", created_at=timezone.now() - timedelta(seconds=5)
    )
    with pytest.raises(CommentFlood) as caught:
        create(author_email="other@example.org")
    assert 9 <= caught.value.retry_after <= 10


def test_it_refuses_a_flood_from_the_same_email_on_any_article(no_delay, settings):
    settings.REEX_COMMENT_FLOOD_SECONDS = 15
    CommentFactory.create(author_email="ann@example.org", ip_address="192.0.2.9")
    with pytest.raises(CommentFlood):
        create(ip="198.51.100.200")


def test_it_accepts_again_once_the_flood_interval_passed(no_delay, settings):
    settings.REEX_COMMENT_FLOOD_SECONDS = 15
    CommentFactory.create(
        ip_address="198.51.100.1", created_at=timezone.now() - timedelta(seconds=16)
    )
    assert create()


def test_zero_flood_seconds_disables_the_flood_check(no_delay, settings):
    settings.REEX_COMMENT_FLOOD_SECONDS = 0
    CommentFactory.create(ip_address="198.51.100.1")
    assert create()


def test_a_reply_records_its_parent_root_and_depth(no_delay):
    top = ApprovedCommentFactory.create()
    reply = ApprovedCommentFactory.create(article=top.article, parent=top, root=top, depth=1)
    comment = create(article=top.article, parent_id=reply.pk)
    assert (comment.parent_id, comment.root_id, comment.depth) == (reply.pk, top.pk, 2)


@pytest.mark.parametrize("status", ["pending", "spam", "trash"])
def test_a_reply_needs_an_approved_parent(no_delay, status):
    parent = CommentFactory.create(status=status)
    assert "parent" in errors_of(article=parent.article, parent_id=parent.pk)


def test_a_reply_needs_a_parent_on_the_same_article(no_delay):
    parent = ApprovedCommentFactory.create()
    assert "parent" in errors_of(article=ArticleFactory.create(), parent_id=parent.pk)


def test_a_reply_to_an_unknown_comment_is_a_field_error(no_delay):
    assert "parent" in errors_of(parent_id=999999)


def test_replies_nest_at_most_the_configured_depth(no_delay, settings):
    settings.REEX_MAX_REPLY_DEPTH = 2
    deepest = ApprovedCommentFactory.create(depth=2)
    assert "parent" in errors_of(article=deepest.article, parent_id=deepest.pk)
    allowed = ApprovedCommentFactory.create(article=deepest.article, depth=1)
    assert create(article=deepest.article, parent_id=allowed.pk, body="ok").depth == 2
